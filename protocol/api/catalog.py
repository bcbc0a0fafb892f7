"""Model discovery schemas of the contract: ASR and MT model info, language support.

Field names, optionality and string unions follow the contract's "Model Discovery" section
exactly; fields the contract does not have are appended with defaults.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

import msgspec

Score = Annotated[int, msgspec.Meta(ge=0, le=100)]
Megabytes = Annotated[int, msgspec.Meta(ge=0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]

ASRProvider: TypeAlias = Literal["openai", "facebook", "microsoft", "google"]
ASRSizeCategory: TypeAlias = Literal["tiny", "small", "medium", "large"]
MTProvider: TypeAlias = Literal["facebook", "google", "microsoft", "opus"]
MTArchitecture: TypeAlias = Literal["nllb", "m2m", "mbart", "opus-mt"]
MTSizeCategory: TypeAlias = Literal["small", "medium", "large", "xl"]
UseCase: TypeAlias = Literal["real_time", "accuracy", "multilingual", "low_resource"]
TextDirection: TypeAlias = Literal["ltr", "rtl"]
Level: TypeAlias = Literal["high", "medium", "low"]


# --- ASR -----------------------------------------------------------------------------------


class ASRFeatures(msgspec.Struct, kw_only=True, frozen=True):
    multilingual: bool
    timestamps: bool
    voice_activity_detection: bool
    diarization: bool
    real_time: bool


class ASRHardwareRequirements(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    min_cpu_cores: Annotated[int, msgspec.Meta(ge=1)]
    min_ram_mb: Megabytes
    gpu_recommended: bool
    gpu_memory_mb: Megabytes | None = None


class ASRBenchmarks(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    # A fraction (0.056 = 5.6 % WER), as in the contract's example.
    wer_english: NonNegative | None = None
    rtf: NonNegative | None = None
    latency_ms: NonNegative | None = None


class ASRModelInfo(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    model_id: str
    display_name: str
    provider: ASRProvider
    languages: list[str]
    size_category: ASRSizeCategory
    size_mb: Megabytes
    quality_score: Score
    speed_score: Score
    memory_requirement_mb: Megabytes
    features: ASRFeatures
    hardware_requirements: ASRHardwareRequirements
    benchmarks: ASRBenchmarks | None = None
    # Extension: where the weights are on this machine (set by discovery, not the catalog).
    location: ModelLocation | None = None


class ModelRecommendation(msgspec.Struct, kw_only=True, frozen=True):
    use_case: UseCase
    recommended_model: str
    reason: str


class ASRModelsResponse(msgspec.Struct, kw_only=True):
    models: list[ASRModelInfo]
    default_model: str
    recommendations: list[ModelRecommendation]


# --- MT ------------------------------------------------------------------------------------


class MTFeatures(msgspec.Struct, kw_only=True, frozen=True):
    zero_shot: bool
    document_level: bool
    domain_adaptation: bool
    confidence_scores: bool


class MTBenchmarks(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    bleu_score: NonNegative | None = None
    latency_ms: NonNegative | None = None
    throughput_chars_per_sec: NonNegative | None = None


class MTModelInfo(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    model_id: str
    display_name: str
    provider: MTProvider
    architecture: MTArchitecture
    size_category: MTSizeCategory
    size_mb: Megabytes
    quality_score: Score
    speed_score: Score
    memory_requirement_mb: Megabytes
    supported_languages: list[str]
    language_pairs_count: Annotated[int, msgspec.Meta(ge=0)]
    features: MTFeatures
    benchmarks: MTBenchmarks | None = None
    # Extension: where the weights are on this machine (set by discovery, not the catalog).
    location: ModelLocation | None = None


class LanguagePair(msgspec.Struct, kw_only=True, frozen=True):
    source: str
    target: str
    quality_score: Score
    supported_models: list[str]


class MTModelsResponse(msgspec.Struct, kw_only=True):
    models: list[MTModelInfo]
    default_model: str
    language_pairs: list[LanguagePair]
    # Extension: all pairs number in the tens of thousands, so the route returns a filtered
    # page in `language_pairs` and the full count here.
    language_pairs_total: Annotated[int, msgspec.Meta(ge=0)] = 0


# --- Languages -----------------------------------------------------------------------------


class LanguageVariant(msgspec.Struct, kw_only=True, frozen=True):
    code: str
    name: str
    region: str


class LanguageInfo(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    code: str
    name: str
    native_name: str
    script: str
    direction: TextDirection
    quality_tier: Level
    resource_level: Level
    variants: list[LanguageVariant] | None = None


class LanguageRecommendation(msgspec.Struct, kw_only=True, frozen=True):
    source_language: str
    recommended_targets: list[str]
    reason: str


class LanguageSupportResponse(msgspec.Struct, kw_only=True):
    model_id: str
    languages: list[LanguageInfo]
    pairs: list[LanguagePair]
    recommendations: list[LanguageRecommendation]
    # Extension: `pairs` is a filtered page (NLLB-200 has 40,602 directions); this counts all.
    pairs_total: Annotated[int, msgspec.Meta(ge=0)] = 0


# --- Discovery -----------------------------------------------------------------------------

LocationKind: TypeAlias = Literal["bundled", "cached", "local", "download_required"]


class ModelLocation(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Where a model's weights are on this machine (an extension of the contract).

    `bundled`: inside an installed package; `cached`: a Hugging Face cache snapshot; `local`: a
    folder under LX_MODEL_DIRS; `download_required`: nowhere here, `repo_id` says from where.
    """

    kind: LocationKind
    path: str | None = None
    size_on_disk_mb: NonNegative | None = None  # MiB the files really occupy
    repo_id: str | None = None  # the Hugging Face repository the weights come from
    revision: str | None = None  # the cached snapshot's commit
