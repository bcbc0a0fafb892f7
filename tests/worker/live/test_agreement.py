"""LocalAgreement on hand-made hypotheses: what two decodes agree on is committed, once."""

from __future__ import annotations

from tests.worker.live.words import words
from worker.live.agreement import LocalAgreement, word_key, words_after


def test_nothing_is_committed_from_one_decode() -> None:
    agreement = LocalAgreement()
    result = agreement.update(words("the:0-200 streets:200-600"))
    assert result.committed == ()
    assert result.text == "the streets"
    assert result.stable_text == ""


def test_the_common_prefix_of_two_decodes_is_committed() -> None:
    agreement = LocalAgreement()
    agreement.update(words("the:0-200 streets:200-600 wear:600-800"))
    result = agreement.update(words("the:0-210 streets:210-600 were:600-800 quiet:800-1200"))
    assert result.stable_text == "the streets"
    assert result.text == "the streets were quiet"
    assert [w.text for w in result.tail] == [" were", " quiet"]


def test_agreement_ignores_case_and_punctuation_and_keeps_the_newer_form() -> None:
    agreement = LocalAgreement()
    agreement.update(words("Hello:0-300 world:300-700"))
    result = agreement.update(words("hello,:0-300 world.:300-700"))
    assert result.stable_text == "hello, world."


def test_committed_words_never_change_when_a_later_decode_disagrees() -> None:
    agreement = LocalAgreement()
    agreement.update(words("my:0-200 sister:200-600 went:600-900"))
    agreement.update(words("my:0-200 sister:200-600 wanted:600-900"))
    # A third decode hears "mister": the committed words stay; "wanted", in the last two
    # decodes after them, is committed too.
    result = agreement.update(words("my:0-200 mister:200-600 wanted:600-900 to:900-1000"))
    assert result.stable_text == "my sister wanted"
    assert result.text == "my sister wanted to"


def test_words_repeating_the_committed_end_are_skipped_even_when_timestamps_move() -> None:
    agreement = LocalAgreement()
    agreement.update(words("we:0-200 cooked:200-500 soup:500-800"))
    agreement.update(words("we:0-200 cooked:200-500 soup:500-800 for:800-950"))
    # The next decode places "soup" 300 ms later and "for" early: text alignment keeps
    # "for dinner" (a pure time filter would drop "dinner" or repeat "soup").
    result = agreement.update(
        words("we:0-200 cooked:200-480 soup:480-1100 for:1100-1150 dinner:1150-1500")
    )
    assert result.stable_text == "we cooked soup for"
    assert result.text == "we cooked soup for dinner"


def test_cut_returns_the_committed_words_and_keeps_the_tail_for_the_next_segment() -> None:
    agreement = LocalAgreement()
    agreement.update(words("a:0-100 little:100-400 dog:400-700"))
    agreement.update(words("a:0-100 little:100-400 dog:400-700 ran:700-900"))
    assert [w.text for w in agreement.cut()] == [" a", " little", " dog"]
    assert agreement.current().committed == ()
    # The next segment's first decode hears "ran" again (with "dog" from its context):
    # it agrees with the kept tail and is committed at once.
    result = agreement.update(words("dog:450-700 ran:700-900 along:900-1200"))
    assert result.stable_text == "ran"
    assert result.text == "ran along"


def test_context_words_before_the_segment_are_not_part_of_it() -> None:
    agreement = LocalAgreement()
    agreement.reset(words("red:2000-2300 door.:2300-2700"))
    hypothesis = words("a:1700-2000 red:2000-2300 door.:2300-2750 the:3600-3800 owner:3800-4100")
    assert [w.text for w in agreement.after_context(hypothesis)] == [" the", " owner"]
    assert agreement.update(hypothesis).text == "the owner"


def test_words_after_falls_back_to_time_when_the_text_is_not_there() -> None:
    before = words("the:0-200 cat:200-500")
    hypothesis = words("a:0-200 hat:200-480 sat:420-800 down:800-900")
    # No run of `before` found: words starting before 500 - 100 ms count as heard.
    assert [w.text for w in words_after(hypothesis, before)] == [" sat", " down"]


def test_a_single_common_word_far_from_the_seam_is_not_taken_as_the_seam() -> None:
    before = words("sat:0-200 on:200-300 the:300-400")
    hypothesis = words("the:3000-3100 mat:3100-3500")
    assert [w.text for w in words_after(hypothesis, before)] == [" the", " mat"]


def test_word_key() -> None:
    assert word_key(words("Don't!:0-1")[0]) == "don't"
    assert word_key(words("...:0-1")[0]) == ""
