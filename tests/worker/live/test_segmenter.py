"""When a segment is final, and what the next one is prompted with (plain numbers)."""

from __future__ import annotations

from tests.worker.live.words import words
from worker.live.segmenter import (
    SegmentPolicy,
    bounded_prompt,
    decide,
    ms_to_samples,
    silent_segment_start,
    without_loop,
    without_made_up_tail,
)
from worker.live.vad import SpeechRun

POLICY = SegmentPolicy(max_segment_ms=10_000, post_speech_ms=200, min_new_audio_ms=100)
S = ms_to_samples


def _decide(received_ms: int, runs: list[SpeechRun], **kw: int | bool) -> tuple[str, int]:
    args: dict[str, int | bool] = {"segment_start": 0, "last_decoded": 0, "audio_ended": False}
    args.update(kw)
    decision = decide(
        policy=POLICY,
        segment_start=int(args["segment_start"]),
        received=S(received_ms),
        last_decoded=int(args["last_decoded"]),
        runs=runs,
        audio_ended=bool(args["audio_ended"]),
    )
    return decision.kind, decision.end


def test_no_speech_nothing_to_decode() -> None:
    assert _decide(5_000, []) == ("none", 0)
    # Speech that ended before the segment began belongs to an earlier final.
    assert _decide(5_000, [SpeechRun(0, S(1_000))], segment_start=S(1_200)) == ("none", 0)


def test_ongoing_speech_asks_for_a_partial_once_enough_is_new() -> None:
    run = [SpeechRun(S(500))]
    assert _decide(2_000, run, last_decoded=S(1_950)) == ("none", 0)
    assert _decide(2_000, run, last_decoded=S(1_900)) == ("partial", S(2_000))
    # Silence before speech began is not new speech.
    assert _decide(550, run) == ("none", 0)


def test_end_of_speech_finals_just_past_where_speech_ended() -> None:
    kind, end = _decide(3_000, [SpeechRun(S(500), S(2_400))])
    assert (kind, end) == ("final", S(2_600))


def test_a_segment_at_its_maximum_length_is_final_while_speech_goes_on() -> None:
    assert _decide(9_999, [SpeechRun(0)], last_decoded=S(9_999)) == ("none", 0)
    assert _decide(10_000, [SpeechRun(0)], last_decoded=S(10_000)) == ("final", S(10_000))


def test_a_pause_when_the_audio_ends_is_where_its_speech_ended() -> None:
    decision = decide(
        policy=POLICY,
        segment_start=0,
        received=S(3_000),
        last_decoded=0,
        runs=[SpeechRun(S(1_000))],
        audio_ended=True,
        pause_from=S(2_600),
    )
    assert (decision.kind, decision.reason, decision.speech_end) == (
        "final",
        "end_of_audio",
        S(2_600),
    )


def test_the_end_of_audio_finals_what_is_left_and_then_nothing() -> None:
    assert _decide(3_000, [SpeechRun(S(1_000))], audio_ended=True) == ("final", S(3_000))
    # After that final the segment starts at the end of the audio: nothing is left.
    after = _decide(3_000, [SpeechRun(S(1_000))], audio_ended=True, segment_start=S(3_000))
    assert after == ("none", 0)


def test_silence_keeps_only_the_margin_before_possible_speech() -> None:
    policy = SegmentPolicy(pre_speech_ms=300)
    assert silent_segment_start(
        policy=policy, segment_start=0, scored_until=S(2_000), speaking=False
    ) == S(1_700)
    # Never backwards, and never while speech goes on.
    assert silent_segment_start(
        policy=policy, segment_start=S(1_900), scored_until=S(2_000), speaking=False
    ) == S(1_900)
    assert (
        silent_segment_start(policy=policy, segment_start=0, scored_until=S(2_000), speaking=True)
        == 0
    )


def test_prompt_is_the_end_of_the_finals_cut_at_a_word() -> None:
    assert bounded_prompt([], 50) is None
    assert bounded_prompt(["", "  "], 50) is None
    assert bounded_prompt(["Hello there.", " General Kenobi."], 100) == (
        "Hello there. General Kenobi."
    )
    # 13 characters hold "four five six" exactly; 12 cut "four" and drop the piece.
    assert bounded_prompt(["one two three four five six"], 13) == "four five six"
    assert bounded_prompt(["one two three four five six"], 12) == "five six"
    assert bounded_prompt(["unbreakable"], 5) is None


def test_a_trailing_made_up_word_and_what_follows_it_are_dropped() -> None:
    spoken = words("all:100-400 evening.:400-700")
    made_up = words("Thank:720-720", probability=0.03) + words("you.:720-740", probability=0.98)
    assert without_made_up_tail(spoken + made_up) == spoken
    # Unlikely but long is a real word; short but likely too.
    assert without_made_up_tail(spoken + words("mumble:720-1200", 0.05)) == spoken + words(
        "mumble:720-1200", 0.05
    )
    assert without_made_up_tail(spoken + words("a:720-760", 0.9)) == spoken + words(
        "a:720-760", 0.9
    )
    # Only the last three words are looked at.
    early = words("uh:0-10", 0.01) + words("we:10-200 cooked:200-500 soup:500-800")
    assert without_made_up_tail(early) == early


def test_a_pause_going_on_is_no_reason_for_a_partial() -> None:
    run = [SpeechRun(S(500))]
    # 300 ms of new audio, but the speaker went quiet 250 ms ago: only 50 ms is new speech.
    decision = decide(
        policy=POLICY,
        segment_start=0,
        received=S(2_000),
        last_decoded=S(1_700),
        runs=run,
        audio_ended=False,
        pause_from=S(1_750),
    )
    assert decision.kind == "none"
    resumed = decide(
        policy=POLICY,
        segment_start=0,
        received=S(2_000),
        last_decoded=S(1_700),
        runs=run,
        audio_ended=False,
    )
    assert resumed.kind == "partial"


def test_a_looping_decoder_is_cut_where_the_loop_starts() -> None:
    spoken = words("very:0-300 happy.:300-700")
    loop = words(" ".join(f"see:{t}-{t} you:{t}-{t} next:{t}-{t} time,:{t}-{t}" for t in range(7)))
    assert without_loop(spoken + loop) == spoken
    # One word said over and over is a loop too, once it runs long enough.
    assert without_loop(spoken + words(" ".join(f"3,:{t}-{t}" for t in range(8)))) == spoken


def test_speech_that_repeats_a_little_is_not_a_loop() -> None:
    said = words("no:0-100 no:100-200 no:200-300 we:300-400 went:400-500 home:500-600")
    assert without_loop(said) == said
    twice = words("the:0-1 red:1-2 door:2-3 the:3-4 red:4-5 door:5-6 opened:6-7")
    assert without_loop(twice) == twice
