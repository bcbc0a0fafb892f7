"""The memory estimate admission uses: the catalog's figure, then what real loads measured."""

from __future__ import annotations

from gateway.catalog import load_catalog
from gateway.models.memory_estimate import MemoryEstimator

TINY = load_catalog().get("openai/whisper-tiny.en")


def test_the_catalog_estimate_grows_with_the_bytes_per_weight() -> None:
    assert TINY is not None
    estimator = MemoryEstimator()
    # The catalog's 270 MB is for int8; its 76 MB of float16 weights double as float32.
    assert estimator.estimate_mb(TINY, "int8", "cpu") == 270
    assert estimator.estimate_mb(TINY, "float16", "cuda:0") == 270 + 38
    assert estimator.estimate_mb(TINY, "float32", "cpu") == 270 + 114


def test_a_measured_load_replaces_the_estimate_for_that_compute_type_and_device_kind() -> None:
    assert TINY is not None
    estimator = MemoryEstimator()
    estimator.record(TINY.model_id, "float16", "cuda:1", 350.0)
    estimator.record(TINY.model_id, "int8", "cpu", 0.0)  # nothing measured: ignored
    assert estimator.estimate_mb(TINY, "float16", "cuda:0") == 350.0  # any GPU
    assert estimator.estimate_mb(TINY, "float16", "cpu") == 270 + 38
    assert estimator.estimate_mb(TINY, "int8", "cpu") == 270
