"""Model discovery routes answer with every contract field, filtered pairs and 404s."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from protocol.api.catalog import ASRModelsResponse, LanguageSupportResponse, MTModelsResponse
from tests.support.app_client import LOOPBACK_URL
from tests.support.builders.nllb_copy import build_nllb_copy_model
from tests.support.envelope import error_of


def test_asr_catalog_validates_against_the_contract(client: TestClient) -> None:
    response = client.get("/api/models/asr")
    assert response.status_code == 200
    body = msgspec.json.decode(response.content, type=ASRModelsResponse)
    ids = {m.model_id for m in body.models}
    assert {"openai/whisper-tiny.en", "openai/whisper-large-v3", "openai/whisper-base"} <= ids
    assert body.default_model == "openai/whisper-tiny.en"
    assert body.recommendations
    # Every contract field is in the JSON, not just decodable.
    raw = response.json()["models"][0]
    for field in ("features", "hardware_requirements", "memory_requirement_mb", "speed_score"):
        assert field in raw


def test_mt_catalog_pages_pairs_and_counts_them_all(client: TestClient) -> None:
    body = msgspec.json.decode(client.get("/api/models/mt").content, type=MTModelsResponse)
    assert {m.architecture for m in body.models} == {"nllb", "m2m"}
    assert len(body.language_pairs) == 100  # the default page
    assert body.language_pairs_total > 40_000  # NLLB-200 alone has 202 x 201 directions


def test_mt_pairs_filter_by_any_code_form(client: TestClient) -> None:
    by_iso = client.get("/api/models/mt", params={"source": "en", "target": "fr"}).json()
    by_flores = client.get(
        "/api/models/mt", params={"source": "eng_Latn", "target": "fra_Latn"}
    ).json()
    assert by_iso["language_pairs"] == by_flores["language_pairs"]
    assert by_iso["language_pairs_total"] == 1
    (pair,) = by_iso["language_pairs"]
    assert (pair["source"], pair["target"]) == ("en", "fr")
    assert "facebook/nllb-200-distilled-600M" in pair["supported_models"]
    assert "facebook/m2m100_418M" in pair["supported_models"]
    traditional = client.get("/api/models/mt", params={"source": "zh-TW", "limit": 1000}).json()
    assert traditional["language_pairs"][0]["source"] == "zh-Hant"
    assert all(
        "facebook/m2m100_418M" not in p["supported_models"] for p in traditional["language_pairs"]
    )


def test_mt_pairs_bad_filters_are_400(client: TestClient) -> None:
    error = error_of(
        client.get("/api/models/mt", params={"source": "xx-nope"}), 400, "CONFIGURATION_ERROR"
    )
    assert error["details"]["field"] == "source"
    error = error_of(client.get("/api/models/mt", params={"limit": "lots"}), 400, "INVALID_REQUEST")
    assert error["details"]["field"] == "limit"


def test_nllb_languages_cover_flores_200(client: TestClient) -> None:
    response = client.get("/api/languages/mt/facebook/nllb-200-distilled-600M")
    assert response.status_code == 200
    body = msgspec.json.decode(response.content, type=LanguageSupportResponse)
    assert len(body.languages) == 202
    by_code = {lang.code: lang for lang in body.languages}
    assert by_code["ar"].direction == "rtl"
    assert by_code["he"].direction == "rtl"
    assert by_code["fr"].direction == "ltr"
    assert {v.code for v in by_code["zh-Hans"].variants or []} >= {"zh-CN"}
    assert {v.code for v in by_code["zh-Hant"].variants or []} >= {"zh-TW", "zh-HK"}
    assert body.pairs_total == 202 * 201
    assert body.recommendations and body.recommendations[0].recommended_targets


def test_m2m_languages_are_its_hundred(client: TestClient) -> None:
    body = client.get("/api/languages/mt/facebook/m2m100_418M", params={"source": "fr"}).json()
    assert len(body["languages"]) == 100
    assert body["pairs_total"] == 99
    assert body["recommendations"][0]["source_language"] == "fr"


@pytest.mark.parametrize("model_id", ["facebook/nllb-200-distiled-600M", "openai/whisper-tiny.en"])
def test_unknown_translation_model_is_404_with_alternatives(
    client: TestClient, model_id: str
) -> None:
    error = error_of(client.get(f"/api/languages/mt/{model_id}"), 404, "MODEL_NOT_FOUND")
    assert "facebook/nllb-200-distilled-600M" in error["details"]["suggested_alternatives"]


def test_catalog_says_where_each_model_is(client: TestClient) -> None:
    models = {m["model_id"]: m for m in client.get("/api/models/asr").json()["models"]}
    tiny = models["openai/whisper-tiny.en"]["location"]
    assert tiny["kind"] == "bundled"
    assert tiny["size_on_disk_mb"] > 30
    large = models["openai/whisper-large-v3"]["location"]
    assert large["kind"] == "download_required"
    assert large["repo_id"] == "Systran/faster-whisper-large-v3"


def test_recommendations_fit_this_machine(client: TestClient) -> None:
    recommendations = client.get("/api/models/asr").json()["recommendations"]
    assert {r["use_case"] for r in recommendations} == {
        "real_time",
        "accuracy",
        "multilingual",
        "low_resource",
    }
    cores = str(os.cpu_count())
    assert all(cores in r["reason"] for r in recommendations), recommendations


def test_uncatalogued_local_models_are_listed(tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    build_nllb_copy_model(models_dir / "my-nllb")
    settings = Settings(devices=(), state_dir=tmp_path / "state", model_dirs=(models_dir,))
    with TestClient(create_app(settings), base_url=LOOPBACK_URL) as client:
        body = client.get("/api/models/mt").json()
    (local,) = [m for m in body["models"] if m["model_id"] == "local/my-nllb"]
    assert local["architecture"] == "nllb"
    assert "fra_Latn" in local["supported_languages"]
    assert local["location"]["kind"] == "local"
    assert local["location"]["path"] == str(models_dir / "my-nllb")
