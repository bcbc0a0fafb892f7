"""Transcript segments as subtitle files: SubRip (.srt) and WebVTT (.vtt).

Laid out as Whisper's own writers do (each cue ends with a blank line). Cues are numbered
from 1 in order; segments with no text are left out (a cue must hold text).
Times are rounded to the nearest millisecond, half up, and never run backwards.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Protocol


class Timed(Protocol):
    """What a cue needs from a segment (protocol.api.transcription.Segment has it)."""

    @property
    def start(self) -> float: ...

    @property
    def end(self) -> float: ...

    @property
    def text(self) -> str: ...


def timestamp(seconds: float, decimal_marker: str) -> str:
    """`HH:MM:SS<marker>mmm`; hours grow past 99 rather than wrap."""
    millis = _millis(seconds)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


def srt(segments: Iterable[Timed]) -> str:
    """A SubRip file: `1`, `00:00:01,000 --> 00:00:02,500`, the text, a blank line."""
    return "".join(
        f"{index}\n{timestamp(start, ',')} --> {timestamp(end, ',')}\n{text}\n\n"
        for index, (start, end, text) in enumerate(_cues(segments), start=1)
    )


def vtt(segments: Iterable[Timed]) -> str:
    """A WebVTT file: the `WEBVTT` header, then `00:00:01.000 --> 00:00:02.500` cues."""
    cues = (
        f"{timestamp(start, '.')} --> {timestamp(end, '.')}\n{text}\n\n"
        for start, end, text in _cues(segments)
    )
    return "WEBVTT\n\n" + "".join(cues)


def _millis(seconds: float) -> int:
    if not math.isfinite(seconds) or seconds <= 0:
        return 0
    return math.floor(seconds * 1000 + 0.5)


def _cues(segments: Iterable[Timed]) -> Sequence[tuple[float, float, str]]:
    cues = []
    for segment in segments:
        # One line per cue: a blank line or "-->" inside the text would break the file.
        text = " ".join(segment.text.split()).replace("-->", "->")
        if text:
            start = max(segment.start, 0.0)
            cues.append((start, max(segment.end, start), text))
    return cues
