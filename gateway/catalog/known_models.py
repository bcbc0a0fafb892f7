"""The one answer to "which model is this id?": a catalog entry, else an uncatalogued
CTranslate2 folder that discovery found under LX_MODEL_DIRS (`local/<name>`).

Session config checks, loads, inference and the OpenAI routes all ask here, so this is where
an id that tries to leave a folder (`..`, an absolute path, NUL) is refused for all of them.
"""

from __future__ import annotations

from gateway.catalog.discovery import ModelDiscovery
from gateway.catalog.local_models import local_entry
from gateway.catalog.store import Catalog, CatalogEntry
from protocol.errors import ErrorCode, ServiceError
from protocol.model_ids import check_model_id, model_id_problem
from protocol.vocabulary import ModelKind


class KnownModels:
    def __init__(self, catalog: Catalog, discovery: ModelDiscovery | None = None) -> None:
        self.catalog = catalog
        # None before the first disk scan (start-up checks): the catalog alone.
        self._discovery = discovery

    @property
    def discovery(self) -> ModelDiscovery | None:
        return self._discovery

    def find(self, model_id: str) -> CatalogEntry | None:
        if model_id_problem(model_id) is not None:
            return None  # an id that would leave a folder names nothing here
        entry = self.catalog.get(model_id)
        if entry is None and self._discovery is not None:
            local = self._discovery.local_model(model_id)
            entry = None if local is None else local_entry(local)
        return entry

    def entry(self, model_id: str) -> CatalogEntry:
        """The model's entry; INVALID_REQUEST (400) for an id that would leave a folder,
        MODEL_NOT_FOUND with the closest catalog ids for one that names no model."""
        entry = self.find(check_model_id(model_id))
        if entry is None:
            raise ServiceError(
                ErrorCode.MODEL_NOT_FOUND,
                f"Model {model_id!r} is not in the registry.",
                {"model_id": model_id, "suggested_alternatives": self.catalog.closest(model_id)},
            )
        return entry

    def is_known(self, model_id: str, kind: ModelKind) -> bool:
        entry = self.find(model_id)
        return entry is not None and entry.kind == kind
