"""LocalAgreement: commit the words two consecutive decodes agree on (plain code).

The idea is Whisper-Streaming's LocalAgreement-2: a buffer is re-decoded as audio grows, and
the longest common prefix of the last two hypotheses (after what is already committed) is
unlikely to change again, so it is committed. Committed words never change; the rest of the
latest hypothesis is the unstable tail a partial shows after them.

Every hypothesis covers the whole segment, so its first words repeat what is committed. They
are skipped by time (a word that starts before the last committed word ended, give or take
the decoder's timestamp wobble) and then by text (a leading run of words equal to the last
committed ones).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from worker.live.events import HypWord, join_words

_NOT_WORD = re.compile(r"[^\w']+")


def word_key(word: HypWord) -> str:
    """What two decodes must agree on: the word without case, spaces or punctuation."""
    return _NOT_WORD.sub("", word.text.lower())


@dataclass(frozen=True)
class Agreement:
    committed: tuple[HypWord, ...]
    tail: tuple[HypWord, ...]

    @property
    def stable_text(self) -> str:
        return join_words(self.committed)

    @property
    def text(self) -> str:
        return join_words(self.committed + self.tail)


@dataclass(frozen=True)
class Overlap:
    """How a hypothesis that re-decodes earlier audio is matched to the words already out."""

    # Timestamps of the same word move by up to about a tenth of a second between decodes.
    time_tolerance_ms: int = 100
    # Only a hypothesis that resumes this close to the earlier end is checked for repeats.
    repeat_window_ms: int = 1_000
    max_repeat_words: int = 5


def words_after(
    hypothesis: Sequence[HypWord], before: Sequence[HypWord], overlap: Overlap = Overlap()
) -> list[HypWord]:
    """The words of `hypothesis` that come after `before` (words already committed or final
    for the same audio). Text first: the last words of `before`, found in the hypothesis
    where they ended (timestamps of the same word move between decodes, so time alone
    loses or repeats a word at the seam); time when the text is not there."""
    if not before:
        return list(hypothesis)
    matched = _end_of_match(hypothesis, before, overlap)
    if matched is not None:
        return list(hypothesis[matched:])
    last_end = before[-1].end_ms
    return [w for w in hypothesis if w.start_ms > last_end - overlap.time_tolerance_ms]


def _end_of_match(
    hypothesis: Sequence[HypWord], before: Sequence[HypWord], overlap: Overlap
) -> int | None:
    """Where the words after the longest run of `before`'s last words begin, if the
    hypothesis has that run ending near where `before` ended; None if it has none."""
    keys = [word_key(w) for w in hypothesis]
    last_end = before[-1].end_ms
    for size in range(min(overlap.max_repeat_words, len(before)), 0, -1):
        target = [word_key(w) for w in before[-size:]]
        # One word alone matches by chance more easily: it must end closer.
        window = overlap.repeat_window_ms if size > 1 else 2 * overlap.time_tolerance_ms
        ends = [
            i + size
            for i in range(len(hypothesis) - size + 1)
            if keys[i : i + size] == target
            and abs(hypothesis[i + size - 1].end_ms - last_end) <= window
        ]
        if ends:
            return min(ends, key=lambda end: abs(hypothesis[end - 1].end_ms - last_end))
    return None


@dataclass
class LocalAgreement:
    overlap: Overlap = field(default_factory=Overlap)
    _committed: list[HypWord] = field(default_factory=list)
    _tail: list[HypWord] = field(default_factory=list)
    # Words before this segment (the previous final's), which decodes with left context
    # repeat: never part of this segment.
    _context: list[HypWord] = field(default_factory=list)

    def update(self, hypothesis: Sequence[HypWord]) -> Agreement:
        """Take the next decode: commit what it shares with the previous one."""
        fresh = words_after(hypothesis, self._context + self._committed, self.overlap)
        agreed = _common_prefix(self._tail, fresh)
        self._committed.extend(fresh[:agreed])
        self._tail = fresh[agreed:]
        return self.current()

    def current(self) -> Agreement:
        return Agreement(committed=tuple(self._committed), tail=tuple(self._tail))

    def after_context(self, hypothesis: Sequence[HypWord]) -> list[HypWord]:
        """The words of `hypothesis` that belong to this segment (a final's words)."""
        return words_after(hypothesis, self._context, self.overlap)

    def cut(self) -> tuple[HypWord, ...]:
        """End the segment at the committed words (a segment at its maximum length): they are
        final and become the next segment's context; the tail stays to be agreed on."""
        words = tuple(self._committed)
        tail = self._tail
        self.reset(words or self._context)
        self._tail = tail
        return words

    def reset(self, context: Sequence[HypWord] = ()) -> None:
        """A new segment, after the words in `context`."""
        self._committed = []
        self._tail = []
        self._context = list(context)


def _common_prefix(previous: Sequence[HypWord], current: Sequence[HypWord]) -> int:
    count = 0
    for before, now in zip(previous, current, strict=False):
        if word_key(before) != word_key(now) or not word_key(now):
            break
        count += 1
    return count
