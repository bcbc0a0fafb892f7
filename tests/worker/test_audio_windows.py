"""Audio in windows (worker/engines/audio_windows.py): one window is exactly the whole-file
decode, longer audio is cut at quiet points into windows that join back into it, and the
decoded length is measured against a limit without keeping samples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from faster_whisper.audio import decode_audio as whole_file

from protocol.errors import ErrorCode, ServiceError
from tests.support.audio import LONG_CLIP, clip_path, load_references
from tests.support.audio_formats import encode
from tests.support.wav_samples import read_wav_pcm, silent_wav, wav_bytes
from worker.engines.audio_windows import duration_s, windows


@pytest.mark.parametrize("name", sorted(load_references()))
def test_a_file_shorter_than_a_window_is_one_window_of_the_same_samples(name: str) -> None:
    data = clip_path(name).read_bytes()
    (window,) = windows(data, "container", 16_000, 120)
    assert window.offset_s == 0.0 and window.last
    assert np.array_equal(window.samples, whole_file(clip_path(name).open("rb")))


def test_longer_audio_is_cut_into_windows_that_join_back_into_it() -> None:
    data = clip_path(LONG_CLIP).read_bytes()
    whole = whole_file(clip_path(LONG_CLIP).open("rb"))
    parts = list(windows(data, "container", 16_000, 10))
    assert len(parts) == 5
    assert [p.last for p in parts] == [False] * 4 + [True]
    assert np.array_equal(np.concatenate([p.samples for p in parts]), whole)
    for part, following in itertools.pairwise(parts):
        assert 5.0 <= part.samples.size / 16_000 <= 10.0  # cut in its last five seconds
        assert following.offset_s == pytest.approx(part.offset_s + part.samples.size / 16_000)


def test_a_cut_falls_in_the_quiet_between_two_sounds() -> None:
    t = np.arange(20 * 16_000) / 16_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    tone[int(8.2 * 16_000) : int(8.5 * 16_000)] = 0  # 300 ms of silence
    first = next(windows(wav_bytes(tone.tobytes()), "container", 16_000, 10))
    assert 8.2 <= first.samples.size / 16_000 <= 8.5


def test_raw_samples_come_in_windows_too() -> None:
    pcm, _ = read_wav_pcm(clip_path(LONG_CLIP))
    parts = list(windows(pcm, "pcm_s16le", 16_000, 30))
    joined = np.concatenate([p.samples for p in parts])
    expected = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    assert len(parts) == 2 and np.array_equal(joined, expected)


def test_the_decoded_length_is_measured() -> None:
    data = clip_path(LONG_CLIP).read_bytes()
    samples = whole_file(clip_path(LONG_CLIP).open("rb")).size
    assert duration_s(data, "container", 16_000) == pytest.approx(samples / 16_000, abs=0.01)
    assert duration_s(bytes(32_000), "pcm_s16le", 8_000) == pytest.approx(2.0)


def test_a_small_file_that_decodes_to_long_audio_is_refused_at_the_limit() -> None:
    bomb = encode(silent_wav(600), "flac")  # ten minutes of silence in a few kB
    assert len(bomb) < 200_000
    with pytest.raises(ServiceError) as refused:
        duration_s(bomb, "container", 16_000, limit_s=60)
    assert refused.value.code == ErrorCode.PAYLOAD_TOO_LARGE
    assert "60 seconds (LX_MAX_AUDIO_SECONDS)" in refused.value.message
    assert 60 < refused.value.details["decoded_seconds_at_least"] < 62  # stopped right there
    assert duration_s(bomb, "container", 16_000, limit_s=601) == pytest.approx(600, abs=0.1)


def test_raw_audio_over_the_limit_is_refused_from_its_size() -> None:
    with pytest.raises(ServiceError) as refused:
        duration_s(bytes(2 * 16_000 * 11), "pcm_s16le", 16_000, limit_s=10)
    assert refused.value.code == ErrorCode.PAYLOAD_TOO_LARGE


def test_bytes_that_are_not_audio_are_invalid_audio() -> None:
    for measure in (
        lambda: duration_s(b"not audio at all", "container", 16_000, 10),
        lambda: list(windows(b"not audio at all", "container", 16_000, 30)),
    ):
        with pytest.raises(ServiceError) as refused:
            measure()
        assert refused.value.code == ErrorCode.INVALID_AUDIO
