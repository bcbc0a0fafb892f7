"""The SQLite file: WAL mode, schema version, and serialised read-modify-write."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import msgspec
import pytest

from gateway.sessions.config_update import ConfigUpdate
from gateway.sessions.database import SCHEMA_VERSION, Database
from gateway.sessions.store import SessionStore
from protocol.api.config import ModelConfig


def test_wal_mode_and_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        Database(path)


def test_concurrent_updates_lose_nothing(tmp_path: Path, defaults: ModelConfig) -> None:
    store = SessionStore(tmp_path / "db.sqlite3")
    sid = store.create(defaults).session_id
    start = defaults.mt.compute_config.batch_size

    def bump(config: ModelConfig) -> ConfigUpdate:
        compute = config.mt.compute_config
        new_compute = msgspec.structs.replace(compute, batch_size=compute.batch_size + 1)
        new = msgspec.structs.replace(
            config, mt=msgspec.structs.replace(config.mt, compute_config=new_compute)
        )
        return ConfigUpdate(
            config=new, restart_required=False, changed_models=frozenset(), apply_immediately=True
        )

    def worker() -> None:
        for _ in range(10):
            store.apply_update(sid, bump)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert store.get(sid).config.mt.compute_config.batch_size == start + 40
    finally:
        store.close()
