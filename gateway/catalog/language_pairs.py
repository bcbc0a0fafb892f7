"""Which language pairs each translation model covers, filtered and paged for the API.

All pairs number in the tens of thousands (NLLB-200 alone has 202 x 201), so the index is
built once and requests get a filtered page plus the full count.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.catalog import Catalog, CatalogEntry
from gateway.catalog.languages import Architecture, Language, languages_for
from protocol.api.catalog import LanguagePair, LanguageRecommendation, MTModelInfo

# A pair is as good as the weaker side's training data allows (tiers from NLLB's bitext counts).
_TIER_FACTOR = {"high": 1.0, "medium": 0.85, "low": 0.7}
_RECOMMENDED_TARGETS = 8


@dataclass(frozen=True)
class _Pair:
    source: Language
    target: Language
    models: tuple[str, ...]
    quality: int


def model_architecture(info: MTModelInfo) -> Architecture:
    return "nllb" if info.architecture == "nllb" else "m2m"


def model_languages(entry: CatalogEntry) -> list[Language]:
    """The languages an MT catalog entry supports, as registry languages."""
    assert isinstance(entry.info, MTModelInfo)
    architecture = model_architecture(entry.info)
    supported = set(entry.info.supported_languages)
    return [
        lang
        for lang in languages_for(architecture)
        if (lang.flores if architecture == "nllb" else lang.m2m) in supported
    ]


class LanguagePairIndex:
    """Built on first use (about 0.15 s), so start-up does not pay for it."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._built: list[_Pair] | None = None

    @property
    def _pairs(self) -> list[_Pair]:
        if self._built is None:
            self._built = _build(self._catalog)
        return self._built

    def __len__(self) -> int:
        return len(self._pairs)

    def query(
        self,
        *,
        source: Language | None = None,
        target: Language | None = None,
        model_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[LanguagePair], int]:
        """A page of matching pairs and how many match in all."""
        matches = [
            p
            for p in self._pairs
            if (source is None or p.source.key == source.key)
            and (target is None or p.target.key == target.key)
            and (model_id is None or model_id in p.models)
        ]
        page = matches[offset : offset + limit]
        return [_to_contract(p, model_id) for p in page], len(matches)

    def recommendations(
        self, model_id: str, sources: list[Language]
    ) -> list[LanguageRecommendation]:
        """For each source, the targets this model translates into best."""
        found = []
        for source in sources:
            page, _ = self.query(source=source, model_id=model_id, limit=_RECOMMENDED_TARGETS)
            if page:
                found.append(
                    LanguageRecommendation(
                        source_language=source.tag,
                        recommended_targets=[p.target for p in page],
                        reason=(
                            f"Highest expected quality from {source.name}: both sides have "
                            "the most public training data (NLLB-200 bitext counts)"
                        ),
                    )
                )
        return found


def _build(catalog: Catalog) -> list[_Pair]:
    by_pair: dict[tuple[str, str], list[str]] = {}
    languages: dict[str, Language] = {}
    quality: dict[str, int] = {}
    for entry in catalog.mt_entries():
        assert isinstance(entry.info, MTModelInfo)
        quality[entry.model_id] = entry.info.quality_score
        langs = model_languages(entry)
        languages.update((lang.key, lang) for lang in langs)
        for source in langs:
            for target in langs:
                if source.key != target.key:
                    by_pair.setdefault((source.key, target.key), []).append(entry.model_id)
    pairs = []
    for (source_key, target_key), models in by_pair.items():
        source, target = languages[source_key], languages[target_key]
        factor = min(_TIER_FACTOR[source.quality_tier], _TIER_FACTOR[target.quality_tier])
        best = max(quality[m] for m in models)
        pairs.append(_Pair(source, target, tuple(models), round(best * factor)))
    # Best pairs first, so an unfiltered first page shows the strongest directions.
    pairs.sort(key=lambda p: (-p.quality, p.source.tag, p.target.tag))
    return pairs


def _to_contract(pair: _Pair, model_id: str | None) -> LanguagePair:
    return LanguagePair(
        source=pair.source.tag,
        target=pair.target.tag,
        quality_score=pair.quality,
        supported_models=[model_id] if model_id else list(pair.models),
    )
