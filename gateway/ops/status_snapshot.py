"""`GET /api/models/status` as bytes encoded once and reused until something it shows changes.

What it shows changes when events arrive: a load starts, completes or fails, a model is
unloaded, an inference or a cache hit is counted (each bumps the manager's revision, see
gateway/models/records.py), or the system figures are sampled again (every second, see
gateway/hardware/system_resources.py). The figures that move with time alone (the
throughput over the last minute, the `last_check` of a model never checked) are therefore
at most one sample old. A request in between costs a dictionary look-up; a status filter
(`statuses`) is one more encoded body per filter, built from the same list.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec

from gateway.hardware.system_resources import SystemMonitor
from gateway.models.manager import ModelManager
from protocol.api.lifecycle import ModelsStatusResponse, ModelStatus

_Lists = tuple[list[ModelStatus], list[ModelStatus]]


class StatusSnapshot:
    def __init__(self, models: ModelManager, monitor: SystemMonitor) -> None:
        self._models = models
        self._monitor = monitor
        self._encoder = msgspec.json.Encoder()
        self._version: tuple[int, int] | None = None
        self._lists: _Lists | None = None
        self._bodies: dict[frozenset[str] | None, bytes] = {}

    def body(self, statuses: Collection[str] | None = None) -> bytes:
        """The encoded ModelsStatusResponse; with `statuses`, only models in those states."""
        version = (self._models.revision.value, self._monitor.samples)
        if version != self._version:
            self._version, self._lists = version, None
            self._bodies.clear()
        key = None if statuses is None else frozenset(statuses)
        body = self._bodies.get(key)
        if body is None:
            asr, mt = self._current()
            body = self._encoder.encode(
                ModelsStatusResponse(
                    asr_models=_only(asr, key),
                    mt_models=_only(mt, key),
                    system_resources=self._monitor.figures,
                )
            )
            self._bodies[key] = body
        return body

    def _current(self) -> _Lists:
        if self._lists is None:
            statuses = self._models.statuses()
            kinds = {s.model_id: self._models.record(s.model_id).kind for s in statuses}
            self._lists = (
                [s for s in statuses if kinds[s.model_id] == "asr"],
                [s for s in statuses if kinds[s.model_id] == "mt"],
            )
            # statuses() makes the records of catalogued models it had not seen yet, which
            # bumps the revision without changing what they show.
            self._version = (self._models.revision.value, self._monitor.samples)
        return self._lists


def _only(statuses: list[ModelStatus], states: frozenset[str] | None) -> list[ModelStatus]:
    return statuses if states is None else [s for s in statuses if s.status in states]
