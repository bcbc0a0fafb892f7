"""Client frames to 16 kHz float32: both encodings, every rate, any frame cut."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import RawEncoding
from worker.live.pcm import PcmToStream


def _tone(rate: int, seconds: float, hz: float = 440.0) -> npt.NDArray[np.float32]:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _peak_hz(samples: npt.NDArray[np.float32], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_s16le_at_16k_is_scaled_not_resampled() -> None:
    raw = np.array([0, 16384, -32768, 32767], dtype="<i2")
    out = PcmToStream("pcm_s16le", 16_000).convert(raw.tobytes())
    assert out.dtype == np.float32
    assert out.tolist() == [0.0, 0.5, -1.0, 32767 / 32768]


def test_f32le_at_16k_passes_through() -> None:
    raw = np.array([0.25, -0.5], dtype="<f4")
    assert PcmToStream("f32le", 16_000).convert(raw.tobytes()).tolist() == [0.25, -0.5]


@pytest.mark.parametrize(("encoding", "size"), [("pcm_s16le", 3), ("f32le", 6)])
def test_a_frame_of_partial_samples_is_invalid_audio(encoding: RawEncoding, size: int) -> None:
    with pytest.raises(ServiceError) as caught:
        PcmToStream(encoding, 16_000).convert(b"\0" * size)
    assert caught.value.code is ErrorCode.INVALID_AUDIO
    assert caught.value.details["bytes"] == size


def test_a_rate_out_of_range_is_refused() -> None:
    with pytest.raises(ServiceError) as caught:
        PcmToStream("pcm_s16le", 96_000)
    assert caught.value.code is ErrorCode.INVALID_AUDIO


def test_f32le_that_is_not_numbers_is_invalid_audio() -> None:
    with pytest.raises(ServiceError) as caught:
        PcmToStream("f32le", 16_000).convert(np.array([0.0, np.nan], dtype="<f4").tobytes())
    assert caught.value.code is ErrorCode.INVALID_AUDIO


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000])
def test_other_rates_are_resampled_keeping_length_and_pitch(rate: int) -> None:
    tone = _tone(rate, 2.0)
    converter = PcmToStream("f32le", rate)
    # Frames of an odd size: the resampler's state carries across them.
    step = 1_234
    parts = [converter.convert(tone[i : i + step].tobytes()) for i in range(0, len(tone), step)]
    out = np.concatenate([*parts, converter.flush()])
    assert abs(len(out) - 32_000) <= 2
    assert abs(_peak_hz(out, 16_000) - 440.0) < 2.0
    # Cut into frames or given whole, the samples are the same.
    whole = PcmToStream("f32le", rate)
    once = np.concatenate([whole.convert(tone.tobytes()), whole.flush()])
    assert np.allclose(out, once, atol=1e-6)


def test_s16le_at_48k_is_resampled() -> None:
    tone = (_tone(48_000, 1.0) * 32767).astype("<i2")
    converter = PcmToStream("pcm_s16le", 48_000)
    out = np.concatenate([converter.convert(tone.tobytes()), converter.flush()])
    assert abs(len(out) - 16_000) <= 2
    assert 0.45 < float(np.max(np.abs(out[1000:-1000]))) < 0.55
