"""Sessions and their model configuration, kept in SQLite so they survive a gateway restart."""

from __future__ import annotations

import builtins
import re
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from gateway.sessions.config_update import ConfigUpdate
from gateway.sessions.database import Database
from gateway.sessions.usage import ModelUsage
from protocol.api.config import SESSION_ID_PATTERN, ModelConfig, SessionInfo
from protocol.errors import ErrorCode, ServiceError

_SESSION_ID = re.compile(SESSION_ID_PATTERN)
_ID_ATTEMPTS = 5  # 64 random bits: a collision is already vanishingly rare


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SessionStore:
    def __init__(self, db_path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = Database(db_path)
        self._clock = clock
        self.usage = ModelUsage(self._db, clock)

    def create(self, config: ModelConfig) -> SessionInfo:
        now = self._clock()
        encoded = _encode(config)
        for _ in range(_ID_ATTEMPTS):
            session_id = "sess_" + secrets.token_hex(8)
            try:
                with self._db.transaction() as conn:
                    conn.execute(
                        "INSERT INTO sessions (session_id, created_at, updated_at, config) "
                        "VALUES (?, ?, ?, ?)",
                        (session_id, now.isoformat(), now.isoformat(), encoded),
                    )
            except sqlite3.IntegrityError:
                continue
            return SessionInfo(session_id=session_id, created_at=now, updated_at=now, config=config)
        raise RuntimeError("could not allocate a unique session id")

    def get(self, session_id: str) -> SessionInfo:
        _check_id(session_id)
        with self._db.reading() as conn:
            row = _select(conn, session_id)
        if row is None:
            raise _not_found(session_id)
        return _session(row)

    def list(self) -> builtins.list[SessionInfo]:
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT session_id, created_at, updated_at, config FROM sessions "
                "ORDER BY created_at, rowid"
            ).fetchall()
        return [_session(row) for row in rows]

    def delete(self, session_id: str) -> None:
        _check_id(session_id)
        with self._db.transaction() as conn:
            deleted = conn.execute(
                "DELETE FROM sessions WHERE session_id = ?", (session_id,)
            ).rowcount
        if deleted == 0:
            raise _not_found(session_id)

    def update_config(self, session_id: str, config: ModelConfig) -> SessionInfo:
        """Replaces the whole (already validated) config in one write; sets updated_at."""
        return self._rewrite(session_id, lambda _current: config)

    def apply_update(
        self, session_id: str, change: Callable[[ModelConfig], ConfigUpdate]
    ) -> tuple[SessionInfo, ConfigUpdate]:
        """Read, change and write the config in one transaction, so concurrent updates of the
        same session cannot lose each other's changes. If `change` raises (a malformed update)
        nothing is written and the error propagates. `change` runs under the store's lock:
        it must be quick and must not call back into the store.

        Typical use: `store.apply_update(sid, lambda c: apply_config_update(c, body, checks))`.
        """
        updates: builtins.list[ConfigUpdate] = []

        def new_config(current: ModelConfig) -> ModelConfig:
            updates.append(change(current))
            return updates[0].config

        return self._rewrite(session_id, new_config), updates[0]

    def _rewrite(
        self, session_id: str, new_config: Callable[[ModelConfig], ModelConfig]
    ) -> SessionInfo:
        _check_id(session_id)
        with self._db.transaction() as conn:
            row = _select(conn, session_id)
            if row is None:
                raise _not_found(session_id)
            config = new_config(_session(row).config)
            now = self._clock()
            conn.execute(
                "UPDATE sessions SET config = ?, updated_at = ? WHERE session_id = ?",
                (_encode(config), now.isoformat(), session_id),
            )
        return SessionInfo(
            session_id=session_id,
            created_at=datetime.fromisoformat(row[1]),
            updated_at=now,
            config=config,
        )

    def close(self) -> None:
        self._db.close()


def _select(conn: sqlite3.Connection, session_id: str) -> tuple[Any, ...] | None:
    row: tuple[Any, ...] | None = conn.execute(
        "SELECT session_id, created_at, updated_at, config FROM sessions WHERE session_id = ?",
        (session_id,),
    ).fetchone()
    return row


def _check_id(session_id: str) -> None:
    # A malformed id cannot name a session: answer "not found" without querying.
    if _SESSION_ID.match(session_id) is None:
        raise _not_found(session_id)


def _not_found(session_id: str) -> ServiceError:
    return ServiceError(
        ErrorCode.SESSION_NOT_FOUND, "Session not found", {"session_id": session_id}
    )


def _encode(config: ModelConfig) -> str:
    return msgspec.json.encode(config).decode()


def _session(row: tuple[Any, ...]) -> SessionInfo:
    return SessionInfo(
        session_id=row[0],
        created_at=datetime.fromisoformat(row[1]),
        updated_at=datetime.fromisoformat(row[2]),
        config=msgspec.json.decode(row[3], type=ModelConfig),
    )
