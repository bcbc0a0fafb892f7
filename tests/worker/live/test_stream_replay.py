"""A live stream replayed on recorded tiny.en decodes (tests/fixtures/live/*.decodes.json,
made by scripts/record_live_decodes.py): the whole stream logic on real decoder outputs,
without loading the model."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.audio import LONG_CLIP, clip_path, load_references
from tests.support.live_feed import ReplayDecoder, feed_all, load_recording
from tests.support.wav_samples import read_wav_samples
from tests.support.wer import word_error_rate
from tests.worker.live.captions import check_caption_order, finals_of, transcript
from worker.live.events import LiveEvent, PartialCaption
from worker.live.stream import LiveStream

RECORDED = [LONG_CLIP, "kitchen_lights.wav"]


def _replay(clip: str) -> tuple[ReplayDecoder, list[LiveEvent], int]:
    _meta, calls = load_recording(clip)
    decoder = ReplayDecoder(calls)
    audio = read_wav_samples(clip_path(clip))
    events = feed_all(LiveStream(decoder), audio)
    return decoder, events, len(audio) * 1000 // 16_000


@pytest.mark.parametrize("clip", RECORDED)
def test_replay_makes_every_recorded_call_and_orders_captions(clip: str) -> None:
    decoder, events, audio_ms = _replay(clip)
    assert decoder.position == len(decoder.calls)
    check_caption_order(events, audio_ms)


def test_long_story_gives_one_final_per_sentence() -> None:
    _decoder, events, _ms = _replay(LONG_CLIP)
    finals = finals_of(events)
    # Ten sentences with 0.6 s pauses: each pause ends a segment.
    assert len(finals) == 10
    assert [f.reason for f in finals[:-1]] == ["end_of_speech"] * 9
    reference = load_references()[LONG_CLIP]
    assert word_error_rate(reference, transcript(events)) <= 0.02


def test_partials_commit_most_of_each_sentence_before_its_final() -> None:
    _decoder, events, _ms = _replay(LONG_CLIP)
    last_stable: dict[int, str] = {}
    for event in events:
        if isinstance(event, PartialCaption):
            last_stable[event.segment_index] = event.stable_text
    finals = finals_of(events)
    covered = [
        len(last_stable.get(f.segment_index, "").split()) / len(f.text.split()) for f in finals
    ]
    # Agreement of consecutive decodes commits words while the sentence is spoken.
    assert float(np.median(covered)) >= 0.75


def test_later_decodes_hear_earlier_finals_as_context_and_prompt() -> None:
    _meta, calls = load_recording(LONG_CLIP)
    prompts = [call.prompt for call in calls]
    # The first sentence has no prompt; later ones are prompted with earlier finals.
    assert prompts[0] is None
    assert any(p and p.startswith("This morning") for p in prompts)
    assert all(p is None or len(p) <= 200 for p in prompts)
