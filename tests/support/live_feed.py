"""Drive a live stream as a scheduler would, and record or replay its decoder's outputs.

`feed_all` feeds audio in chunks and decodes whenever a final is due or `decode_every_ms`
of new speech is waiting: the same pacing for the tests, the recording script and the
benchmark, so a recording replays call for call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from worker.live.decoder import Decoder
from worker.live.events import HypWord, LiveEvent
from worker.live.stream import LiveStream

LIVE_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "live"
SAMPLE_RATE = 16_000
CHUNK_MS = 160
DECODE_EVERY_MS = 400
# A stream whose audio ended finals in a few decodes; more means it loops.
_MAX_DRAIN_DECODES = 20


def chunks(samples: npt.NDArray[np.float32], chunk_ms: int) -> list[npt.NDArray[np.float32]]:
    step = SAMPLE_RATE * chunk_ms // 1000
    return [samples[i : i + step] for i in range(0, len(samples), step)]


def decode_if_due(stream: LiveStream, decode_every_ms: int) -> list[LiveEvent]:
    if stream.final_due() or stream.undecoded_ms >= decode_every_ms:
        return stream.decode()
    return []


def drain(stream: LiveStream) -> list[LiveEvent]:
    """End the audio and decode until every final is out."""
    stream.end_audio()
    events: list[LiveEvent] = []
    for _ in range(_MAX_DRAIN_DECODES):
        if not stream.wants_decode():
            return events
        events.extend(stream.decode())
    raise AssertionError("the stream still wants to decode after its audio ended")


def feed_all(
    stream: LiveStream,
    samples: npt.NDArray[np.float32],
    *,
    chunk_ms: int = CHUNK_MS,
    decode_every_ms: int = DECODE_EVERY_MS,
) -> list[LiveEvent]:
    events: list[LiveEvent] = []
    for chunk in chunks(samples, chunk_ms):
        stream.feed(chunk)
        events.extend(decode_if_due(stream, decode_every_ms))
    return events + drain(stream)


@dataclass
class DecodeCall:
    audio_samples: int
    prompt: str | None
    final: bool
    words: list[HypWord]

    def to_json(self) -> dict[str, Any]:
        return {
            "audio_samples": self.audio_samples,
            "prompt": self.prompt,
            "final": self.final,
            "words": [[w.text, w.start_ms, w.end_ms, round(w.probability, 4)] for w in self.words],
        }

    @staticmethod
    def from_json(raw: dict[str, Any]) -> DecodeCall:
        return DecodeCall(
            audio_samples=int(raw["audio_samples"]),
            prompt=raw["prompt"],
            final=bool(raw["final"]),
            words=[HypWord(str(t), int(s), int(e), float(p)) for t, s, e, p in raw["words"]],
        )


@dataclass
class RecordingDecoder:
    """Passes calls to a real decoder and keeps what it answered."""

    inner: Decoder
    calls: list[DecodeCall] = field(default_factory=list)

    def __call__(
        self, audio: npt.NDArray[np.float32], prompt: str | None, final: bool
    ) -> Sequence[HypWord]:
        words = list(self.inner(audio, prompt, final))
        self.calls.append(DecodeCall(len(audio), prompt, final, words))
        return words


class ReplayMismatch(AssertionError):
    pass


@dataclass
class ReplayDecoder:
    """Answers each call with the recorded decode of the same audio (a real tiny.en output),
    and refuses a call the recording did not make: the stream's behaviour changed, so the
    recording must be made again (scripts/record_live_decodes.py)."""

    calls: list[DecodeCall]
    position: int = 0

    def __call__(
        self, audio: npt.NDArray[np.float32], prompt: str | None, final: bool
    ) -> Sequence[HypWord]:
        if self.position >= len(self.calls):
            raise ReplayMismatch(f"decode #{self.position} was not recorded")
        call = self.calls[self.position]
        asked = (len(audio), prompt, final)
        if asked != (call.audio_samples, call.prompt, call.final):
            raise ReplayMismatch(
                f"decode #{self.position}: asked {asked}, recorded "
                f"{(call.audio_samples, call.prompt, call.final)}"
            )
        self.position += 1
        return call.words


def recording_path(clip: str) -> Path:
    return LIVE_FIXTURES / f"{Path(clip).stem}.decodes.json"


def save_recording(clip: str, meta: dict[str, Any], calls: list[DecodeCall]) -> Path:
    path = recording_path(clip)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**meta, "calls": [call.to_json() for call in calls]}
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def load_recording(clip: str) -> tuple[dict[str, Any], list[DecodeCall]]:
    document = json.loads(recording_path(clip).read_text(encoding="utf-8"))
    calls = [DecodeCall.from_json(raw) for raw in document.pop("calls")]
    return document, calls
