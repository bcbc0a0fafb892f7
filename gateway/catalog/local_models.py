"""CTranslate2 models found in `LX_MODEL_DIRS` that the catalog does not know.

Everything listed comes from the folder's own files: `model.bin`'s header (architecture,
parameters, precision), `config.json`, the vocabulary (Whisper's size and language tokens,
NLLB's `fra_Latn` or M2M100's `__fr__` tokens). Figures a folder cannot tell (quality, speed)
are reported as 0 rather than guessed.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal, TypeAlias

import msgspec

from gateway.catalog import CatalogEntry, WeightsSource
from gateway.catalog.ct2_files import (
    ModelBinHeader,
    folder_size_bytes,
    read_json,
    read_model_bin_header,
    read_vocabulary,
)
from protocol.api.catalog import (
    ASRFeatures,
    ASRHardwareRequirements,
    ASRModelInfo,
    ASRSizeCategory,
    MTArchitecture,
    MTFeatures,
    MTModelInfo,
    MTSizeCategory,
)
from protocol.vocabulary import ModelKind

LOCAL_PREFIX = "local/"
Architecture: TypeAlias = Literal["whisper", "nllb", "m2m", "mbart", "opus-mt"]

# Whisper's English-only vocabulary has 51864 tokens, the multilingual ones 51865 (51866 for
# large-v3); ctranslate2 decides the same way. lang_ids cannot tell: tiny.en lists 98 of them.
_MULTILINGUAL_VOCABULARY = 51865
_WHISPER_LANGUAGE = re.compile(r"^<\|([a-z]{2,3}|haw|yue)\|>$")
_NLLB_LANGUAGE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")  # fra_Latn
_M2M_LANGUAGE = re.compile(r"^__([a-z]{2,3})__$")  # __fr__
_MBART_LANGUAGE = re.compile(r"^[a-z]{2}_[A-Z]{2}$")  # fr_XX
_MB = 1024 * 1024


class LocalModel(msgspec.Struct, kw_only=True, frozen=True):
    """An uncatalogued CTranslate2 model folder and what its files say."""

    model_id: str  # "local/<folder name>"
    kind: ModelKind
    path: str
    size_on_disk_mb: float
    architecture: Architecture
    languages: list[str]  # Whisper codes ("fr"), FLORES for NLLB ("fra_Latn"), ISO for M2M100
    multilingual: bool
    parameters: int | None = None  # from model.bin; None when its header is unreadable
    dtype: str | None = None  # storage precision of the weights: int8, float16, ...
    vocabulary_size: int | None = None


def inspect_model_dir(path: Path, name: str) -> LocalModel | None:
    """Describe the CTranslate2 model in `path` (listed as `local/<name>`); None if it is
    neither a Whisper nor a translation model."""
    header = read_model_bin_header(path / "model.bin")
    doc = read_json(path / "config.json")
    config: dict[str, object] = doc if isinstance(doc, dict) else {}
    kind = _kind(path, header, config)
    if kind is None:
        return None
    architecture: Architecture
    if kind == "asr":
        vocabulary = read_vocabulary(path, ("vocabulary",)) or []
        architecture, languages = "whisper", _whisper_languages(vocabulary, config)
        multilingual = len(languages) > 1
    else:
        vocabulary = read_vocabulary(path, ("shared_vocabulary", "target_vocabulary")) or []
        architecture, languages = _translation_languages(vocabulary)
        multilingual = len(languages) > 2  # many-to-many rather than one pair
    return LocalModel(
        model_id=LOCAL_PREFIX + name,
        kind=kind,
        path=str(path),
        size_on_disk_mb=round(folder_size_bytes(path) / _MB, 1),
        architecture=architecture,
        languages=languages,
        multilingual=multilingual,
        parameters=header.parameters if header else None,
        dtype=header.dtype if header else None,
        vocabulary_size=len(vocabulary) or None,
    )


def _kind(path: Path, header: ModelBinHeader | None, config: dict[str, object]) -> ModelKind | None:
    if header is not None and header.spec is not None:
        # The spec name is authoritative; other specs (language models, Wav2Vec2, ...) are
        # not served here.
        if header.spec == "WhisperSpec":
            return "asr"
        return "mt" if header.spec == "TransformerSpec" else None
    if "alignment_heads" in config or "lang_ids" in config:
        return "asr"
    translation_files = (
        "shared_vocabulary.json",
        "shared_vocabulary.txt",
        "sentencepiece.bpe.model",
    )
    if any((path / f).is_file() for f in translation_files):
        return "mt"
    return "asr" if (path / "tokenizer.json").is_file() else None


def _whisper_languages(vocabulary: list[str], config: dict[str, object]) -> list[str]:
    if len(vocabulary) < _MULTILINGUAL_VOCABULARY:
        return ["en"]
    lang_ids = config.get("lang_ids")
    ids = [i for i in lang_ids if isinstance(i, int)] if isinstance(lang_ids, list) else []
    tokens = [vocabulary[i] for i in ids if 0 <= i < len(vocabulary)]
    if not tokens:  # no lang_ids in config: take the language tokens of the vocabulary
        tokens = vocabulary
    found = [m.group(1) for t in tokens if (m := _WHISPER_LANGUAGE.match(t))]
    return list(dict.fromkeys(found))


def _translation_languages(vocabulary: list[str]) -> tuple[MTArchitecture, list[str]]:
    nllb = [t for t in vocabulary if _NLLB_LANGUAGE.match(t)]
    if nllb:
        return "nllb", nllb
    m2m = [m.group(1) for t in vocabulary if (m := _M2M_LANGUAGE.match(t))]
    if m2m:
        return "m2m", m2m
    mbart = [t for t in vocabulary if _MBART_LANGUAGE.match(t)]
    if mbart:
        return "mbart", mbart
    # No language tokens: a bilingual (Marian / OPUS-MT) model whose pair the files do not name.
    return "opus-mt", []


def _display_name(model: LocalModel) -> str:
    return f"{model.model_id.removeprefix(LOCAL_PREFIX)} (local)"


def _parameters(model: LocalModel) -> float:
    """From model.bin, else guessed from the file size as if the weights were fp16."""
    return float(model.parameters or model.size_on_disk_mb * _MB / 2)


def _memory_mb(model: LocalModel, runtime_mb: float) -> int:
    # As the catalog estimates: the file read plus a converted copy, plus the runtime;
    # rounded up to 10 MB.
    return int(math.ceil((1.5 * model.size_on_disk_mb + runtime_mb) / 10) * 10)


# The catalog's size categories, by millions of parameters: ASR < 100 tiny, < 500 small,
# < 1000 medium, else large; MT < 500 small, < 1000 medium, < 2000 large, else xl.
_ASR_CATEGORIES: tuple[ASRSizeCategory, ...] = ("tiny", "small", "medium", "large")
_MT_CATEGORIES: tuple[MTSizeCategory, ...] = ("small", "medium", "large", "xl")


def _size_class(millions: float, limits: tuple[float, ...]) -> int:
    return sum(1 for limit in limits if millions >= limit)


def to_asr_info(model: LocalModel) -> ASRModelInfo:
    """The contract's ASRModelInfo, with honest values: unknown scores are 0."""
    millions = _parameters(model) / 1e6
    category = _ASR_CATEGORIES[_size_class(millions, (100, 500, 1000))]
    memory = _memory_mb(model, 150)
    big = category in ("medium", "large")
    return ASRModelInfo(
        model_id=model.model_id,
        display_name=_display_name(model),
        provider="openai",  # the Whisper architecture; the weights may be a fine-tune
        languages=model.languages,
        size_category=category,
        size_mb=round(model.size_on_disk_mb),
        quality_score=0,
        speed_score=0,
        memory_requirement_mb=memory,
        features=ASRFeatures(
            multilingual=model.multilingual,
            timestamps=True,  # faster-whisper's word timestamps work with any Whisper
            voice_activity_detection=True,  # Silero VAD runs beside the model
            diarization=False,
            real_time=not big,
        ),
        hardware_requirements=ASRHardwareRequirements(
            min_cpu_cores={"tiny": 2, "small": 2, "medium": 4, "large": 8}[category],
            min_ram_mb=int(math.ceil(memory / 512) * 512),
            gpu_recommended=big,
            # The catalog's rule for fp16 on a GPU: fp16 weights + 1440 MB.
            gpu_memory_mb=round(millions * 2 + 1440) if big else None,
        ),
    )


def to_mt_info(model: LocalModel) -> MTModelInfo:
    """The contract's MTModelInfo, with honest values: unknown scores are 0."""
    millions = _parameters(model) / 1e6
    category = _MT_CATEGORIES[_size_class(millions, (500, 1000, 2000))]
    count = len(model.languages)
    architecture = _MT_ARCHITECTURES.get(model.architecture, "opus-mt")
    return MTModelInfo(
        model_id=model.model_id,
        display_name=_display_name(model),
        provider="opus" if architecture == "opus-mt" else "facebook",
        architecture=architecture,
        size_category=category,
        size_mb=round(model.size_on_disk_mb),
        quality_score=0,
        speed_score=0,
        memory_requirement_mb=_memory_mb(model, 300),
        supported_languages=model.languages,
        language_pairs_count=count * (count - 1),
        features=MTFeatures(
            zero_shot=count > 2,  # many-to-many: pairs never seen together in training
            document_level=False,
            domain_adaptation=False,
            confidence_scores=False,
        ),
    )


_MT_ARCHITECTURES: dict[str, MTArchitecture] = {
    "nllb": "nllb",
    "m2m": "m2m",
    "mbart": "mbart",
    "opus-mt": "opus-mt",
}


def to_model_info(model: LocalModel) -> ASRModelInfo | MTModelInfo:
    return to_asr_info(model) if model.kind == "asr" else to_mt_info(model)


def local_entry(model: LocalModel) -> CatalogEntry:
    """A catalog entry for an uncatalogued folder, so it loads like any catalog model."""
    return CatalogEntry(
        kind=model.kind,
        info=to_model_info(model),
        weights=WeightsSource(repo_id=model.model_id, format="ctranslate2"),
        sources={"all": f"read from the files in {model.path}"},
    )
