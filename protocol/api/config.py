"""Per-session model configuration: the contract's ModelConfig, its update messages, sessions.

The full config Structs are what a session stores and what GET returns. The `*Patch` Structs
mirror them with every field optional; they document the PUT body (deep partial update) in the
OpenAPI schema. The gateway merges patches itself from raw JSON so that an explicit `null` can
clear an optional field, then validates the merged result against `ModelConfig`.

The decoding parameters' ranges are `protocol.options`' (the same ones the query strings,
the OpenAI form and the wire use); their defaults are there too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from protocol.options import (
    BeamSize,
    BestOf,
    CompressionRatio,
    InitialPrompt,
    InputTokens,
    Language,
    LengthPenalty,
    LogprobThreshold,
    NoRepeatNgram,
    Probability,
    Temperature,
    TokenCount,
)
from protocol.vocabulary import ComputeType, Device, Task

SESSION_ID_PATTERN = "^sess_[0-9a-f]{16}$"

# Model ids are catalog keys ("openai/whisper-tiny.en"); existence is checked by the catalog.
ModelId = Annotated[str, Meta(min_length=1, max_length=256)]
CpuThreads = Annotated[int, Meta(ge=1, le=256)]
# A share of the GPU: 0 would leave nothing to load into.
GpuMemoryFraction = Annotated[float, Meta(gt=0.0, le=1.0)]
BatchSize = Annotated[int, Meta(ge=1, le=256)]
RestartTimeMs = Annotated[int, Meta(ge=0)]


class _Config(
    msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, forbid_unknown_fields=True
):
    """Base: unknown fields refused, unset optional fields left out of the JSON. Subclasses
    repeat kw_only/frozen because type checkers do not inherit those."""


class AsrParameters(_Config, kw_only=True, frozen=True):
    beam_size: BeamSize
    best_of: BestOf
    temperature: Temperature
    compression_ratio_threshold: CompressionRatio
    logprob_threshold: LogprobThreshold
    no_speech_threshold: Probability
    condition_on_previous_text: bool
    initial_prompt: InitialPrompt | None = None


class AsrComputeConfig(_Config, kw_only=True, frozen=True):
    device: Device
    compute_type: ComputeType
    cpu_threads: CpuThreads | None = None
    gpu_memory_fraction: GpuMemoryFraction | None = None


class AsrConfig(_Config, kw_only=True, frozen=True):
    model_id: ModelId
    language: Language | None = None  # None: Whisper detects the language
    task: Task
    parameters: AsrParameters
    compute_config: AsrComputeConfig


class MtParameters(_Config, kw_only=True, frozen=True):
    beam_size: BeamSize
    length_penalty: LengthPenalty
    no_repeat_ngram_size: NoRepeatNgram
    max_input_length: InputTokens
    max_new_tokens: TokenCount
    early_stopping: bool


class MtComputeConfig(_Config, kw_only=True, frozen=True):
    device: Device
    compute_type: ComputeType
    batch_size: BatchSize


class MtConfig(_Config, kw_only=True, frozen=True):
    model_id: ModelId
    source_language: Language | None = None  # None: auto-detect
    target_language: Language
    parameters: MtParameters
    compute_config: MtComputeConfig


class ModelConfig(_Config, kw_only=True, frozen=True):
    asr: AsrConfig
    mt: MtConfig


# --- Deep partial updates (PUT body). UNSET: leave as is; None: clear an optional field. ---


class AsrParametersPatch(_Config, kw_only=True, frozen=True):
    beam_size: BeamSize | UnsetType = UNSET
    best_of: BestOf | UnsetType = UNSET
    temperature: Temperature | UnsetType = UNSET
    compression_ratio_threshold: CompressionRatio | UnsetType = UNSET
    logprob_threshold: LogprobThreshold | UnsetType = UNSET
    no_speech_threshold: Probability | UnsetType = UNSET
    condition_on_previous_text: bool | UnsetType = UNSET
    initial_prompt: InitialPrompt | UnsetType | None = UNSET


class AsrComputeConfigPatch(_Config, kw_only=True, frozen=True):
    device: Device | UnsetType = UNSET
    compute_type: ComputeType | UnsetType = UNSET
    cpu_threads: CpuThreads | UnsetType | None = UNSET
    gpu_memory_fraction: GpuMemoryFraction | UnsetType | None = UNSET


class AsrConfigPatch(_Config, kw_only=True, frozen=True):
    model_id: ModelId | UnsetType = UNSET
    language: Language | UnsetType | None = UNSET
    task: Task | UnsetType = UNSET
    parameters: AsrParametersPatch | UnsetType = UNSET
    compute_config: AsrComputeConfigPatch | UnsetType = UNSET


class MtParametersPatch(_Config, kw_only=True, frozen=True):
    beam_size: BeamSize | UnsetType = UNSET
    length_penalty: LengthPenalty | UnsetType = UNSET
    no_repeat_ngram_size: NoRepeatNgram | UnsetType = UNSET
    max_input_length: InputTokens | UnsetType = UNSET
    max_new_tokens: TokenCount | UnsetType = UNSET
    early_stopping: bool | UnsetType = UNSET


class MtComputeConfigPatch(_Config, kw_only=True, frozen=True):
    device: Device | UnsetType = UNSET
    compute_type: ComputeType | UnsetType = UNSET
    batch_size: BatchSize | UnsetType = UNSET


class MtConfigPatch(_Config, kw_only=True, frozen=True):
    model_id: ModelId | UnsetType = UNSET
    source_language: Language | UnsetType | None = UNSET
    target_language: Language | UnsetType = UNSET
    parameters: MtParametersPatch | UnsetType = UNSET
    compute_config: MtComputeConfigPatch | UnsetType = UNSET


class UpdateModelConfigRequest(_Config, kw_only=True, frozen=True):
    asr: AsrConfigPatch | UnsetType = UNSET
    mt: MtConfigPatch | UnsetType = UNSET
    # True: the running session switches now; False: from its next stream on.
    apply_immediately: bool | UnsetType = UNSET


class UpdateModelConfigResponse(_Config, kw_only=True, frozen=True):
    updated_at: datetime  # encoded as RFC 3339 / ISO 8601, UTC ("...Z")
    config: ModelConfig
    restart_required: bool
    estimated_restart_time_ms: RestartTimeMs | None = None


# --- Sessions ---

SessionId = Annotated[str, Meta(pattern=SESSION_ID_PATTERN)]


class SessionInfo(_Config, kw_only=True, frozen=True):
    session_id: SessionId
    created_at: datetime
    updated_at: datetime
    config: ModelConfig


class CreateSessionRequest(_Config, kw_only=True, frozen=True):
    # A deep partial update applied to the service defaults; None: the defaults as they are.
    config: UpdateModelConfigRequest | None = None
