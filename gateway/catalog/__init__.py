"""The model catalog: which ASR and MT models exist, what they offer, where their weights live."""

from gateway.catalog.store import (
    Catalog,
    CatalogEntry,
    CatalogError,
    WeightsSource,
    load_catalog,
    parse_catalog,
)

__all__ = [
    "Catalog",
    "CatalogEntry",
    "CatalogError",
    "WeightsSource",
    "load_catalog",
    "parse_catalog",
]
