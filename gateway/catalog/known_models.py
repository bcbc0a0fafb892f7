"""The one answer to "which model is this id?": a catalog entry, else an uncatalogued
CTranslate2 folder that discovery found under LX_MODEL_DIRS (`local/<name>`).

Session config checks, loads, inference and the OpenAI routes all ask here.
"""

from __future__ import annotations

from gateway.catalog.discovery import ModelDiscovery
from gateway.catalog.local_models import local_entry
from gateway.catalog.store import Catalog, CatalogEntry
from protocol.errors import ErrorCode, ServiceError
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
        entry = self.catalog.get(model_id)
        if entry is None and self._discovery is not None:
            local = self._discovery.local_model(model_id)
            entry = None if local is None else local_entry(local)
        return entry

    def entry(self, model_id: str) -> CatalogEntry:
        """The model's entry, or MODEL_NOT_FOUND with the closest catalog ids."""
        entry = self.find(model_id)
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
