"""Raw audio at any rate from 8 to 48 kHz becomes Whisper's 16 kHz input: same length in
time, same frequencies, nothing above the new Nyquist rate folded back in."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import AudioEncoding
from worker.engines.audio import decode_audio, raw_to_float32, resample, to_float32_16k


def tone(
    frequency: float, rate: int, seconds: float = 1.0, amplitude: float = 0.5
) -> npt.NDArray[np.float32]:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def peak_hz(samples: npt.NDArray[np.float32], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[spectrum.argmax()])


def rms(samples: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def test_an_8khz_tone_keeps_its_frequency_and_length_at_16khz() -> None:
    raw = (tone(440, 8000) * 32767).astype("<i2").tobytes()
    samples = to_float32_16k(raw, "pcm_s16le", 8000)
    assert samples.dtype == np.float32
    assert samples.size == 16_000  # one second, as sent
    assert peak_hz(samples, 16_000) == pytest.approx(440, abs=1)
    ideal = tone(440, 16_000)
    inner = slice(100, -100)  # away from the ends, where the filter sees zeros
    assert np.abs(samples[inner] - ideal[inner]).max() < 1e-3


@pytest.mark.parametrize("rate", [11_025, 22_050, 44_100, 48_000, 8_001])
def test_other_rates_keep_frequency_length_and_level(rate: int) -> None:
    source = tone(440, rate, seconds=0.5)
    samples = resample(source, rate)
    assert samples.size == -(-source.size * 16_000 // rate)  # the same span of time
    assert peak_hz(samples, 16_000) == pytest.approx(440, abs=2)
    assert rms(samples[200:-200]) == pytest.approx(rms(source), rel=0.01)


def test_what_16khz_cannot_hold_is_filtered_out_not_folded_back() -> None:
    # 10 kHz at 48 kHz would alias to 6 kHz if it were merely decimated.
    samples = resample(tone(10_000, 48_000), 48_000)
    assert rms(samples[200:-200]) < 0.001 * rms(tone(10_000, 48_000))


def test_16khz_passes_unchanged() -> None:
    raw = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    assert to_float32_16k(raw, "pcm_s16le", 16_000).tolist() == pytest.approx(
        [0.0, 0.5, -1.0, 32767 / 32768]
    )


def test_float_samples_are_read_as_they_are() -> None:
    source = tone(300, 16_000, seconds=0.1)
    assert np.array_equal(raw_to_float32(source.astype("<f4").tobytes(), "f32le"), source)
    at_24k = tone(300, 24_000, seconds=0.1)
    samples = decode_audio(at_24k.astype("<f4").tobytes(), "f32le", 24_000)
    assert samples.size == 1_600
    assert peak_hz(samples, 16_000) == pytest.approx(300, abs=10)  # 0.1 s: 10 Hz bins


@pytest.mark.parametrize(
    ("raw", "encoding", "rate"),
    [
        (b"\x00\x00" * 100, "pcm_s16le", 7_999),
        (b"\x00\x00" * 100, "pcm_s16le", 48_001),
        (b"\x00\x00\x00", "f32le", 16_000),  # not whole 4-byte samples
        (np.array([0.0, np.nan], dtype="<f4").tobytes(), "f32le", 16_000),
        (np.array([np.inf], dtype="<f4").tobytes(), "f32le", 16_000),
    ],
)
def test_bad_raw_audio_is_invalid_audio(raw: bytes, encoding: AudioEncoding, rate: int) -> None:
    with pytest.raises(ServiceError) as caught:
        decode_audio(raw, encoding, rate)
    assert caught.value.code == ErrorCode.INVALID_AUDIO
