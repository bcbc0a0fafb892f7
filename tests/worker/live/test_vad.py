"""Voice activity: the incremental Silero windows equal one pass over the whole file, and
the tracker's runs follow the fixture's sentences."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.audio import LONG_CLIP, clip_path
from tests.support.wav_samples import read_wav_samples
from worker.live.vad import WINDOW, SileroWindows, SpeechTracker, VadSettings, VoiceActivity


@pytest.fixture(scope="module")
def long_audio() -> npt.NDArray[np.float32]:
    return read_wav_samples(clip_path(LONG_CLIP))


def test_incremental_probabilities_equal_one_pass(long_audio: npt.NDArray[np.float32]) -> None:
    whole = SileroWindows().push(long_audio)
    assert len(whole) == len(long_audio) // WINDOW
    pieces = SileroWindows()
    parts = [pieces.push(long_audio[i : i + 2_777]) for i in range(0, len(long_audio), 2_777)]
    assert np.array_equal(np.concatenate(parts), whole)
    assert pieces.windows_done == len(whole)


def test_runs_follow_the_sentences_of_the_long_fixture(
    long_audio: npt.NDArray[np.float32],
) -> None:
    vad = VoiceActivity(VadSettings(min_silence_ms=400))
    for i in range(0, len(long_audio), 3_200):
        vad.push(long_audio[i : i + 3_200])
    runs = vad.tracker.runs
    # Ten sentences joined by 0.6 s of silence: ten runs, the last still open at the end.
    assert len(runs) == 10
    assert all(run.end is not None for run in runs[:-1])
    starts = [run.start for run in runs]
    assert starts == sorted(starts)
    for before, after in itertools.pairwise(runs):
        assert before.end is not None
        gap_ms = (after.start - before.end) * 1000 // 16_000
        assert 400 <= gap_ms <= 1_500


def test_tracker_hysteresis_on_plain_probabilities() -> None:
    # 32 ms windows; 400 ms of silence is 13 windows (the 13th completes it).
    tracker = SpeechTracker(VadSettings(threshold=0.5, neg_threshold=0.35, min_silence_ms=400))
    tracker.update([0.1] * 3 + [0.9] * 10)
    assert tracker.speaking and tracker.runs[0].start == 3 * WINDOW
    # Between the thresholds: not silence, the run goes on.
    tracker.update([0.4] * 30)
    assert tracker.speaking
    tracker.update([0.1] * 12)
    assert tracker.speaking
    tracker.update([0.1])
    assert not tracker.speaking
    assert tracker.runs[0].end == 43 * WINDOW
    tracker.forget_before(43 * WINDOW + 1)
    assert tracker.runs == []


def test_tracker_counts_from_its_offset() -> None:
    tracker = SpeechTracker(offset=16_000)
    tracker.update([0.0, 0.9])
    assert tracker.runs[0].start == 16_000 + WINDOW
    assert tracker.scored_until == 16_000 + 2 * WINDOW


def test_tracker_reports_a_pause_until_it_ends_the_run_or_speech_resumes() -> None:
    tracker = SpeechTracker(VadSettings(min_silence_ms=400))
    tracker.update([0.9] * 5)
    assert tracker.pause_from is None
    tracker.update([0.1] * 3)
    assert tracker.pause_from == 5 * WINDOW
    tracker.update([0.9])
    assert tracker.pause_from is None
    tracker.update([0.1] * 13)
    assert tracker.pause_from is None and not tracker.speaking
