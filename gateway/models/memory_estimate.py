"""How much memory a model will take on a device, before any of its weights are read.

Placement admits loads by this estimate. It starts from the catalog (its int8 figure, scaled
by how many bytes the compute type keeps per weight) and is replaced by what real loads of
the same model and compute type measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.catalog import CatalogEntry
from protocol.vocabulary import ComputeType

# Bytes per weight relative to float16, the size the catalog's size_mb describes.
_WEIGHT_FACTOR = {"int8": 0.5, "int8_float32": 0.5, "int8_float16": 0.5, "int16": 1.0}
_WEIGHT_FACTOR |= {"float16": 1.0, "bfloat16": 1.0, "float32": 2.0}


def effective_compute_type(compute_type: ComputeType | None, device: str) -> ComputeType:
    """The compute type a load runs at: the one asked for, else int8 on CPU and float16 on a
    GPU. Resolved here only: the worker is always sent a concrete type."""
    if compute_type is not None:
        return compute_type
    return "int8" if device == "cpu" else "float16"


@dataclass
class MemoryEstimator:
    # (model_id, compute_type, device kind) -> MiB a real load measured.
    measured: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def estimate_mb(self, entry: CatalogEntry, compute_type: str, device: str) -> float:
        kind = device.partition(":")[0]
        seen = self.measured.get((entry.model_id, compute_type, kind))
        if seen is not None:
            return seen
        info = entry.info
        factor = _WEIGHT_FACTOR.get(compute_type, 1.0)
        # The catalog's requirement is for int8 weights; weights grow with the compute type.
        return round(float(info.memory_requirement_mb) + float(info.size_mb) * (factor - 0.5))

    def record(self, model_id: str, compute_type: str, device: str, used_mb: float) -> None:
        if used_mb > 0:
            self.measured[(model_id, compute_type, device.partition(":")[0])] = used_mb
