"""SRT and WebVTT formatting of transcript segments (gateway/subtitles.py)."""

from __future__ import annotations

import math

import pytest

from gateway.openai.subtitles import srt, timestamp, vtt
from protocol.wire.messages import Segment


def segment(start: float, end: float, text: str) -> Segment:
    return Segment(
        id=1,
        start=start,
        end=end,
        text=text,
        avg_logprob=-0.2,
        no_speech_prob=0.01,
        compression_ratio=1.2,
    )


@pytest.mark.parametrize(
    ("seconds", "srt_time", "vtt_time"),
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (1.0, "00:00:01,000", "00:00:01.000"),
        (2.5, "00:00:02,500", "00:00:02.500"),
        (1.2344, "00:00:01,234", "00:00:01.234"),  # rounds down below half a millisecond
        (1.2346, "00:00:01,235", "00:00:01.235"),  # and up above it
        (0.0625, "00:00:00,063", "00:00:00.063"),  # exactly half: up, not to even
        (59.9996, "00:01:00,000", "00:01:00.000"),  # rounding carries into the minutes
        (3599.9996, "01:00:00,000", "01:00:00.000"),  # and into the hours
        (3723.004, "01:02:03,004", "01:02:03.004"),
        (100 * 3600 + 0.5, "100:00:00,500", "100:00:00.500"),  # hours grow past 99
        (-0.3, "00:00:00,000", "00:00:00.000"),  # never negative
        (math.nan, "00:00:00,000", "00:00:00.000"),
    ],
)
def test_timestamps(seconds: float, srt_time: str, vtt_time: str) -> None:
    assert timestamp(seconds, ",") == srt_time
    assert timestamp(seconds, ".") == vtt_time


def test_srt_numbers_cues_and_ends_each_with_a_blank_line() -> None:
    segments = [segment(0.0, 1.0, " Hello there."), segment(1.0, 2.5, " General Kenobi.")]
    assert srt(segments) == (
        "1\n00:00:00,000 --> 00:00:01,000\nHello there.\n\n"
        "2\n00:00:01,000 --> 00:00:02,500\nGeneral Kenobi.\n\n"
    )


def test_vtt_has_its_header_and_dotted_times() -> None:
    segments = [segment(3599.5, 3601.25, " Past the hour.")]
    assert vtt(segments) == "WEBVTT\n\n00:59:59.500 --> 01:00:01.250\nPast the hour.\n\n"


def test_empty_segments_are_left_out_and_numbering_stays_consecutive() -> None:
    segments = [
        segment(0.0, 1.0, " One."),
        segment(1.0, 2.0, "   "),
        segment(2.0, 3.0, ""),
        segment(3.0, 4.0, " Two."),
    ]
    assert srt(segments) == (
        "1\n00:00:00,000 --> 00:00:01,000\nOne.\n\n2\n00:00:03,000 --> 00:00:04,000\nTwo.\n\n"
    )
    assert vtt(segments).count(" --> ") == 2


def test_no_segments_give_an_empty_srt_and_a_bare_vtt() -> None:
    assert srt([]) == ""
    assert vtt([]) == "WEBVTT\n\n"
    assert srt([segment(0.0, 1.0, " ")]) == ""


def test_cue_text_cannot_break_the_file() -> None:
    # A blank line would end the cue early and "-->" would read as a timing line.
    cue = srt([segment(0.0, 1.0, " a\n\nb --> c ")])
    assert cue == "1\n00:00:00,000 --> 00:00:01,000\na b -> c\n\n"


def test_times_never_run_backwards() -> None:
    cue = vtt([segment(-1.0, -2.0, "x"), segment(5.0, 4.0, "y")])
    assert "00:00:00.000 --> 00:00:00.000\nx" in cue
    assert "00:00:05.000 --> 00:00:05.000\ny" in cue
