"""How often each model has been used, so the cache policy can preload the popular ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from gateway.sessions.database import Database


@dataclass(frozen=True)
class ModelUse:
    model_id: str
    count: int
    last_used: datetime


class ModelUsage:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def record_model_use(self, model_id: str) -> None:
        now = self._clock().isoformat()
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO model_usage (model_id, count, last_used) VALUES (?, 1, ?) "
                "ON CONFLICT(model_id) DO UPDATE "
                "SET count = count + 1, last_used = excluded.last_used",
                (model_id, now),
            )

    def most_used(self, n: int) -> list[ModelUse]:
        """The `n` most used models; ties go to the most recently used."""
        with self._db.reading() as conn:
            rows = conn.execute(
                "SELECT model_id, count, last_used FROM model_usage "
                "ORDER BY count DESC, last_used DESC, model_id LIMIT ?",
                (max(n, 0),),
            ).fetchall()
        return [ModelUse(row[0], row[1], datetime.fromisoformat(row[2])) for row in rows]
