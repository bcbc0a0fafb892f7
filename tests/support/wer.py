"""Word error rate for checking transcripts against reference text.

Both sides go through the same `normalize`, so casing, punctuation and "3" versus "three" never
count as errors; only real word substitutions, insertions and deletions do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
# Past this, spelling the number digit by digit is as good as any reading.
_MAX_SPELLED = 10**12

_DIGIT_GROUP_COMMA = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER = re.compile(r"\d+")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def number_to_words(value: int) -> str:
    """Spell a non-negative integer in English words, e.g. 42 -> "forty two"."""
    if value < 0:
        raise ValueError(f"expected a non-negative integer, got {value}")
    if value >= _MAX_SPELLED:
        return " ".join(_ONES[int(digit)] for digit in str(value))
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] if ones == 0 else f"{_TENS[tens]} {_ONES[ones]}"
    for scale, name in _SCALES:
        if value >= scale:
            head, rest = divmod(value, scale)
            words = f"{number_to_words(head)} {name}"
            return words if rest == 0 else f"{words} {number_to_words(rest)}"
    raise AssertionError("unreachable: every value >= 100 matches a scale")


def normalize(text: str) -> str:
    """Lowercase, spell digits as words, drop punctuation and collapse whitespace.

    Apostrophes are removed rather than split on ("don't" -> "dont") so contractions stay one
    word; other punctuation, hyphens included, becomes a word break.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGIT_GROUP_COMMA.sub("", text)  # "1,000" is one number, not "1" and "000"
    text = _NUMBER.sub(lambda match: f" {number_to_words(int(match.group()))} ", text)
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    return " ".join(text.split())


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences (unit cost for each edit)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            substitution = previous[j - 1] + (ref_word != hyp_word)
            current.append(min(previous[j] + 1, current[j - 1] + 1, substitution))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits needed to turn the hypothesis into the reference, per reference word.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise (there is no word
    count to divide by, and any output at all is wrong).
    """
    ref_words = normalize(reference).split()
    hyp_words = normalize(hypothesis).split()
    if not ref_words:
        return 0.0 if not hyp_words else 1.0
    return edit_distance(ref_words, hyp_words) / len(ref_words)
