"""The words both halves of the protocol share: model kinds, tasks, compute types, devices,
audio encodings and sample rates. Defined here once; `protocol.api` and `protocol.wire`
both import them, never each other.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

ModelKind = Literal["asr", "mt"]
Task = Literal["transcribe", "translate"]  # Whisper translates into English only
# The CTranslate2 compute types a client may ask for (a device may run fewer).
ComputeType = Literal["int8", "float16", "float32"]
# Where a client wants a model: `auto` lets the gateway choose (the GPU when there is one).
Device = Literal["cpu", "cuda", "auto"]

# How audio bytes are laid out: any container PyAV reads (WAV, FLAC, MP3, Ogg, WebM...), or
# raw mono samples: 16-bit signed little-endian integers, or 32-bit little-endian floats.
AudioEncoding = Literal["container", "pcm_s16le", "f32le"]
RawEncoding = Literal["pcm_s16le", "f32le"]
# Whisper listens at 16 kHz; raw audio at another rate in this range is resampled to it.
WHISPER_SAMPLE_RATE = 16_000
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 48_000
SampleRate = Annotated[int, Meta(ge=MIN_SAMPLE_RATE, le=MAX_SAMPLE_RATE)]
