"""What was loaded, kept in the state folder, so that a restarted gateway loads it again.

`loaded_models.json` in LX_STATE_DIR lists the models loaded (or loading, or waiting for
their worker to come back) after every load, failure and unload: a gateway that died, even
by SIGKILL, finds there what it held. A model an operator unloaded, or that the cache
policy evicted, leaves the list; one whose load fails leaves it too. Delete the file for a
start with nothing loaded.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import cast, get_args

import msgspec

from gateway.models.manager import ModelManager
from protocol.api.events import Envelope
from protocol.api.lifecycle import LoadComputeConfig, LoadModelRequest
from protocol.errors import ServiceError
from protocol.vocabulary import ComputeType

log = logging.getLogger(__name__)

FILE_NAME = "loaded_models.json"
# Events after which the list may have changed.
_CHANGES = frozenset({"model.load.completed", "model.load.failed", "model.unloaded"})
_KEPT_STATES = frozenset({"loaded", "loading"})


class SavedModel(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    model_id: str
    device: str | None = None
    compute_type: str | None = None


class _File(msgspec.Struct, kw_only=True):
    models: list[SavedModel]


class LoadedModels:
    """Reads the list once at start, then rewrites it as the manager's models change."""

    def __init__(self, state_dir: Path, manager: ModelManager) -> None:
        self._path = state_dir / FILE_NAME
        self._manager = manager
        self.saved = self._read()
        # Saved models not yet asked for again: they stay listed until they are.
        self._pending = {m.model_id: m for m in self.saved}

    def observe(self, event: Envelope) -> None:
        """An EventHub observer."""
        if event.t in _CHANGES:
            self.save()

    def save(self) -> None:
        models = dict(self._pending)
        for record in self._manager.records():
            if record.status in _KEPT_STATES or record.restore:
                models[record.model_id] = SavedModel(
                    model_id=record.model_id,
                    device=record.device,
                    compute_type=record.compute_type,
                )
        temporary = self._path.with_suffix(".tmp")
        try:
            temporary.write_bytes(msgspec.json.encode(_File(models=list(models.values()))))
            os.replace(temporary, self._path)  # a reader never sees half a file
        except OSError as exc:
            log.warning("could not record the loaded models in %s: %s", self._path, exc)

    async def load_again(self) -> None:
        """Ask for each saved model again, on the device and compute type it had."""
        for saved in list(self._pending.values()):
            named = saved.compute_type in get_args(ComputeType)
            config = LoadComputeConfig(
                device=saved.device,
                compute_type=cast(ComputeType, saved.compute_type) if named else None,
            )
            try:
                await self._manager.load(saved.model_id, LoadModelRequest(compute_config=config))
            except ServiceError as exc:
                log.warning("could not load %s again: %s", saved.model_id, exc.message)
            finally:
                del self._pending[saved.model_id]
                self.save()

    def _read(self) -> list[SavedModel]:
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("could not read %s: %s", self._path, exc)
            return []
        try:
            return msgspec.json.decode(raw, type=_File).models
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.warning("ignoring %s: %s", self._path, exc)
            return []
