"""Translation through the gateway on the suite's NLLB-style copy model (output = input)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import LOCAL_MT_MODEL
from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.integration


def _translate(
    gateway: GatewayProcess, body: dict[str, Any], path: str = "/api/mt/translate"
) -> Any:
    with gateway.client() as client:
        return client.post(path, json={"model_id": LOCAL_MT_MODEL, **body})


def test_one_text_any_code_form(gateway: GatewayProcess) -> None:
    for source, target in [("en", "fr"), ("eng_Latn", "fra_Latn"), ("en-US", "fr-CA")]:
        answer = _translate(
            gateway, {"text": "Hello world.", "source_language": source, "target_language": target}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        (only,) = body["translations"]
        assert only["text"] == "Hello world."
        assert only["source_language"] == "en"
        assert body["target_language"] == "fr"
        assert body["model_id"] == LOCAL_MT_MODEL
        assert body["device"] == "cpu"


def test_a_list_keeps_its_order_and_scripts(gateway: GatewayProcess) -> None:
    texts = ["Good morning.", "Wie geht es dir?", "这是一个测试。"]
    body = _translate(
        gateway, {"text": texts, "source_language": "en", "target_language": "es"}
    ).json()
    assert [t["text"] for t in body["translations"]] == texts


def test_source_language_is_detected_per_text(gateway: GatewayProcess) -> None:
    texts = [
        "This is a sentence written in plain English.",
        "Ceci est une phrase écrite en français.",
    ]
    body = _translate(gateway, {"text": texts, "target_language": "de"}).json()
    assert [t["source_language"] for t in body["translations"]] == ["en", "fr"]
    assert all(0 < t["detected"]["probability"] <= 1 for t in body["translations"])
    assert [t["text"] for t in body["translations"]] == texts


def test_long_text_is_split_into_sentences_and_joined_back(gateway: GatewayProcess) -> None:
    sentence = "The quick brown fox jumps over the lazy dog near the river bank."
    text = " ".join([sentence] * 40)  # about 2,600 characters: over the 512 budget
    body = _translate(
        gateway, {"text": text, "source_language": "en", "target_language": "fr"}
    ).json()
    assert body["translations"][0]["text"] == text


def test_confidence_comes_from_the_model_scores(gateway: GatewayProcess) -> None:
    body = _translate(
        gateway,
        {
            "text": "A confident copy.",
            "source_language": "en",
            "target_language": "fr",
            "return_confidence": True,
        },
    ).json()
    confidence = body["translations"][0]["confidence"]
    assert 0 < confidence <= 1


def test_unsupported_pair_lists_the_supported_targets(gateway: GatewayProcess) -> None:
    answer = _translate(
        gateway, {"text": "Hello.", "source_language": "en", "target_language": "ja"}
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "CONFIGURATION_ERROR"
    assert error["details"]["field"] == "target_language"
    assert set(error["details"]["supported_targets"]) == {"en", "fr", "de", "es", "zh-Hans", "ar"}


def test_bad_language_code_and_missing_target_are_400(gateway: GatewayProcess) -> None:
    bad = _translate(gateway, {"text": "Hello.", "target_language": "xx-nowhere"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["field"] == "target_language"
    missing = _translate(gateway, {"text": "Hello."})
    assert missing.status_code == 400
    assert missing.json()["error"]["details"]["field"] == "target_language"


def test_text_over_the_limit_is_413(gateway: GatewayProcess) -> None:
    answer = _translate(
        gateway, {"text": "a" * 20_001, "source_language": "en", "target_language": "fr"}
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["details"]["field"] == "text[0]"


def test_a_repeated_request_is_served_from_the_cache(gateway: GatewayProcess) -> None:
    body = {"text": "Cache me if you can.", "source_language": "en", "target_language": "fr"}
    first = _translate(gateway, body).json()
    second = _translate(gateway, body).json()
    assert first["translations"][0]["cached"] is False
    assert second["translations"][0]["cached"] is True
    assert second["translations"][0]["text"] == "Cache me if you can."
    with gateway.client() as client:
        status = client.get("/api/models/status").json()
    (local,) = [m for m in status["mt_models"] if m["model_id"] == LOCAL_MT_MODEL]
    assert local["status"] == "loaded"
    assert 0 < local["performance_metrics"]["cache_hit_rate"] < 1


def test_session_translation_uses_the_session_target(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        sid = client.post("/api/sessions").json()["session_id"]
        client.put(
            f"/api/sessions/{sid}/models/config",
            json={
                "mt": {"model_id": LOCAL_MT_MODEL, "target_language": "de", "source_language": "en"}
            },
        ).raise_for_status()
        answer = client.post(f"/api/sessions/{sid}/translate", json={"text": "Session text."})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["target_language"] == "de"
    assert body["model_id"] == LOCAL_MT_MODEL
    assert body["translations"][0]["text"] == "Session text."


def test_unknown_session_is_404(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        answer = client.post("/api/sessions/sess_ffffffffffffffff/translate", json={"text": "x"})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "SESSION_NOT_FOUND"
