"""SessionStore and ModelUsage on a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from gateway.sessions.config_update import ConfigChecks, apply_config_update
from gateway.sessions.store import SessionStore
from protocol.api.config import ModelConfig
from protocol.errors import ErrorCode, ServiceError


class StepClock:
    """A clock that moves one second per reading, so timestamps are distinct and known."""

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "gateway.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[SessionStore]:
    opened = SessionStore(db_path, clock=StepClock())
    yield opened
    opened.close()


def _not_found(store: SessionStore, session_id: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        store.get(session_id)
    return caught.value


def test_session_id_format(store: SessionStore, defaults: ModelConfig) -> None:
    ids = {store.create(defaults).session_id for _ in range(5)}
    assert len(ids) == 5
    assert all(re.fullmatch(r"sess_[0-9a-f]{16}", sid) for sid in ids)


def test_create_then_get(store: SessionStore, defaults: ModelConfig) -> None:
    created = store.create(defaults)
    assert store.get(created.session_id) == created
    assert created.created_at == created.updated_at


def test_persists_across_reopening(db_path: Path, defaults: ModelConfig) -> None:
    first = SessionStore(db_path)
    created = first.create(defaults)
    first.close()
    second = SessionStore(db_path)
    try:
        assert second.get(created.session_id) == created
        assert [s.session_id for s in second.list()] == [created.session_id]
    finally:
        second.close()


def test_delete_then_get_is_not_found(store: SessionStore, defaults: ModelConfig) -> None:
    sid = store.create(defaults).session_id
    store.delete(sid)
    err = _not_found(store, sid)
    assert err.code is ErrorCode.SESSION_NOT_FOUND
    assert err.details == {"session_id": sid}
    with pytest.raises(ServiceError):
        store.delete(sid)


def test_malformed_id_is_not_found(store: SessionStore) -> None:
    for bad in ("sess_123", "SESS_0123456789abcdef", "sess_0123456789abcdeg", "' OR 1=1 --"):
        assert _not_found(store, bad).code is ErrorCode.SESSION_NOT_FOUND


def test_update_config_sets_updated_at(store: SessionStore, defaults: ModelConfig) -> None:
    created = store.create(defaults)
    changed = msgspec.structs.replace(
        defaults, mt=msgspec.structs.replace(defaults.mt, target_language="de")
    )
    updated = store.update_config(created.session_id, changed)
    assert updated.updated_at > created.updated_at
    assert updated.created_at == created.created_at
    assert store.get(created.session_id) == updated
    assert store.get(created.session_id).config.mt.target_language == "de"


def test_apply_update_writes_the_merged_config(
    store: SessionStore, defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    sid = store.create(defaults).session_id
    body = b'{"asr": {"parameters": {"beam_size": 3}}}'
    info, update = store.apply_update(sid, lambda c: apply_config_update(c, body, cpu_checks))
    assert update.restart_required is False
    assert info.config.asr.parameters.beam_size == 3
    assert store.get(sid).config == update.config


def test_malformed_update_leaves_stored_config_unchanged(
    store: SessionStore, defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    before = store.create(defaults)
    # A valid change alongside an invalid one: neither may be written.
    body = b'{"mt": {"target_language": "de"}, "asr": {"parameters": {"beam_size": 99}}}'
    with pytest.raises(ServiceError) as caught:
        store.apply_update(before.session_id, lambda c: apply_config_update(c, body, cpu_checks))
    assert caught.value.details["field"] == "asr.parameters.beam_size"
    assert store.get(before.session_id) == before


def test_update_of_missing_session(store: SessionStore, defaults: ModelConfig) -> None:
    with pytest.raises(ServiceError) as caught:
        store.update_config("sess_0000000000000000", defaults)
    assert caught.value.code is ErrorCode.SESSION_NOT_FOUND


def test_list_in_creation_order(store: SessionStore, defaults: ModelConfig) -> None:
    sids = [store.create(defaults).session_id for _ in range(3)]
    store.delete(sids[1])
    assert [s.session_id for s in store.list()] == [sids[0], sids[2]]


def test_usage_counts_order(store: SessionStore) -> None:
    usage = store.usage
    for model in ["a", "b", "b", "c", "c", "c", "a"]:
        usage.record_model_use(model)
    top = usage.most_used(3)
    assert [(u.model_id, u.count) for u in top] == [("c", 3), ("a", 2), ("b", 2)]
    # a and b tie on count; a was used last, so it comes first.
    assert top[1].last_used > top[2].last_used
    assert [u.model_id for u in usage.most_used(1)] == ["c"]


def test_usage_survives_reopening(db_path: Path) -> None:
    first = SessionStore(db_path)
    first.usage.record_model_use("openai/whisper-tiny.en")
    first.close()
    second = SessionStore(db_path)
    try:
        assert [(u.model_id, u.count) for u in second.usage.most_used(5)] == [
            ("openai/whisper-tiny.en", 1)
        ]
    finally:
        second.close()
