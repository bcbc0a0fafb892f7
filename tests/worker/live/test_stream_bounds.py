"""What a stream does without speech: nothing to decode, and a bounded buffer."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.live_feed import ReplayDecoder, feed_all
from worker.live.events import ResumeState
from worker.live.segmenter import SegmentPolicy
from worker.live.stream import LiveStream


def test_a_minute_of_silence_asks_for_no_decode_and_keeps_little_audio() -> None:
    # No recorded calls: any decode would fail the test.
    stream = LiveStream(ReplayDecoder([]), policy=SegmentPolicy(context_ms=8_000))
    events = feed_all(stream, np.zeros(60 * 16_000, dtype=np.float32))
    assert events == []
    assert stream.finished
    assert stream.received_ms == 60_000
    # The context before where speech could start, and the pre-speech margin: no more.
    assert stream.buffered_ms <= 8_000 + 300 + 200
    assert stream.resume_state() == ResumeState()


def test_a_resumed_stream_counts_from_where_it_resumed() -> None:
    state = ResumeState(start_sample=160_000, segment_index=4, prompt="Hello.", last_end_ms=9_500)
    stream = LiveStream.resumed(ReplayDecoder([]), state, np.zeros(16_000, dtype=np.float32))
    assert stream.received_ms == 11_000
    assert stream.resume_state() == state


def test_audio_after_the_end_is_a_mistake_of_the_caller() -> None:
    stream = LiveStream(ReplayDecoder([]))
    stream.end_audio()
    with pytest.raises(ValueError, match="ended"):
        stream.feed(np.zeros(10, dtype=np.float32))
