"""413 messages state each limit in its own unit; status filters; refused query values."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.http.io import size_text
from gateway.settings import Settings
from protocol.errors import failing_field
from tests.support.app_client import LOOPBACK_URL
from tests.support.envelope import error_of


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (100 * 1024 * 1024, "100 MB"),
        (64 * 1024, "64 KB"),
        (1536, "1536 bytes"),
        (100 * 1024 * 1024 + 256 * 1024, "100.2 MB"),  # 100.25
        (10, "10 bytes"),
    ],
)
def test_sizes_are_stated_in_their_unit(size: int, text: str) -> None:
    assert size_text(size) == text


def test_a_json_body_over_its_limit_states_it_in_kb(client: TestClient) -> None:
    answer = client.post("/api/models/openai/whisper-tiny.en/load", content=b" " * (65 * 1024))
    error = error_of(answer, 413, "PAYLOAD_TOO_LARGE")
    assert "64 KB" in error["message"]
    assert error["details"]["limit_bytes"] == 64 * 1024


def test_an_upload_over_its_limit_states_it_in_mb_and_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(devices=(), state_dir=tmp_path, max_upload_mb=1.0)
    with TestClient(create_app(settings), base_url=LOOPBACK_URL) as small:
        raw = small.post("/api/asr/transcribe", content=b"\0" * (1024 * 1024 + 1))
        form = small.post(
            "/api/asr/transcribe", files={"file": ("a.wav", b"\0" * (1024 * 1024 + 1))}
        )
    for answer in (raw, form):
        message = error_of(answer, 413, "PAYLOAD_TOO_LARGE")["message"]
        assert "1 MB (LX_MAX_UPLOAD_MB)" in message


def test_model_status_filters_by_state(client: TestClient) -> None:
    everything = client.get("/api/models/status").json()
    assert everything["asr_models"] and everything["mt_models"]
    not_loaded = client.get("/api/models/status", params={"status": "not_loaded"}).json()
    assert not_loaded["asr_models"] == everything["asr_models"]
    loaded = client.get("/api/models/status", params={"status": "loaded"}).json()
    assert loaded["asr_models"] == [] and loaded["mt_models"] == []
    assert "system_resources" in loaded
    error = error_of(
        client.get("/api/models/status", params={"status": "ready"}), 400, "INVALID_REQUEST"
    )
    assert error["details"] == {"field": "status", "in": "query"}


def test_never_loaded_models_report_the_disk_check_not_a_fresh_failure(tmp_path: Path) -> None:
    settings = Settings(devices=(), state_dir=tmp_path, offline=True)
    with TestClient(create_app(settings), base_url=LOOPBACK_URL) as offline:
        status = offline.get("/api/models/status").json()
        again = offline.get("/api/models/status").json()
    by_id = {m["model_id"]: m for m in status["asr_models"] + status["mt_models"]}
    assert by_id["openai/whisper-tiny.en"]["health_check"]["status"] == "healthy"  # bundled
    # Nothing in this test's cache: offline, a load could only fail.
    assert by_id["openai/whisper-large-v3"]["health_check"]["status"] == "unhealthy"
    checked = {m["health_check"]["last_check"] for m in by_id.values()}
    assert len(checked) == 1  # one look at the disk, the same time for every model
    later = {m["health_check"]["last_check"] for m in again["asr_models"]}
    assert later <= checked | {max(later)}  # moves only when discovery looks again


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    b: int


class Outer(msgspec.Struct, forbid_unknown_fields=True):
    a: Inner


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"a": {}}', "a.b"),
        (b"{}", "a"),
        (b'{"a": {"b": 1, "c": 2}}', "a.c"),
    ],
)
def test_missing_and_unknown_fields_are_named(body: bytes, field: str) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(body, type=Outer)
    assert failing_field(caught.value) == field


@pytest.mark.parametrize(
    "query",
    ["status=loaded&status=loaded", "status=null", "limit=", "status="],
)
def test_query_values_outside_the_schema_are_refused(client: TestClient, query: str) -> None:
    path = "/api/models/mt" if query.startswith("limit") else "/api/models/status"
    error = error_of(client.get(f"{path}?{query}"), 400, "INVALID_REQUEST")
    assert error["details"]["field"] == query.split("=")[0]
    assert error["details"]["in"] == "query"
