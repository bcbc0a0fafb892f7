from __future__ import annotations

import pytest

from tests.support.wer import edit_distance, normalize, number_to_words, word_error_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("  The   quick\tbrown\nfox. ", "the quick brown fox"),
        ("Don't stop", "dont stop"),
        ("It\u2019s fine", "its fine"),
        ("well-known fact", "well known fact"),
        ("I have 3 cats", "i have three cats"),
        ("room 42", "room forty two"),
        ("1,000 people", "one thousand people"),
        ("at 7.30", "at seven thirty"),
        ("in 2024", "in two thousand twenty four"),
        ("", ""),
        ("?!...", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (20, "twenty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (105, "one hundred five"),
        (1_000_001, "one million one"),
        (10**12, "one zero zero zero zero zero zero zero zero zero zero zero zero"),
    ],
)
def test_number_to_words(value: int, words: str) -> None:
    assert number_to_words(value) == words


def test_number_to_words_rejects_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        number_to_words(-1)


def test_digits_and_words_agree() -> None:
    assert word_error_rate("she has three apples", "She has 3 apples.") == 0.0


@pytest.mark.parametrize(
    ("reference", "hypothesis", "edits"),
    [
        ("a b c", "a b c", 0),
        ("a b c", "a x c", 1),  # substitution
        ("a b c", "a c", 1),  # deletion
        ("a b c", "a b b c", 1),  # insertion
        ("a b c", "", 3),
        ("", "a b", 2),
        ("kitten sitting", "sitting kitten", 2),
    ],
)
def test_edit_distance(reference: str, hypothesis: str, edits: int) -> None:
    assert edit_distance(reference.split(), hypothesis.split()) == edits


def test_word_error_rate_counts_edits_per_reference_word() -> None:
    reference = "please turn on the kitchen lights"
    assert word_error_rate(reference, "Please turn on the kitchen lights.") == 0.0
    assert word_error_rate(reference, "please turn off the kitchen lights") == pytest.approx(1 / 6)
    assert word_error_rate(reference, "please turn on the lights") == pytest.approx(1 / 6)
    assert word_error_rate(reference, "lights") == pytest.approx(5 / 6)
    # Insertions can push the rate above 1.
    assert word_error_rate("yes", "no no no") == pytest.approx(3.0)


def test_word_error_rate_empty_reference() -> None:
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("...", "") == 0.0
    assert word_error_rate("", "anything") == 1.0
