"""A model's status from the gateway's record: how long a loaded model has been idle."""

from __future__ import annotations

from gateway.models.records import ModelRecord
from protocol.wire.messages import LoadedModel

LOADED = LoadedModel(
    model_id="m",
    kind="asr",
    device="cpu",
    compute_type="int8",
    loaded_at="2026-01-01T00:00:00+00:00",
    memory_usage_mb=75.0,
    load_time_ms=800.0,
)


def test_idle_for_counts_from_the_last_use_and_only_while_loaded() -> None:
    record = ModelRecord(model_id="m", kind="asr")
    assert record.to_status(now=50.0).idle_for_s is None  # not loaded
    record.mark_loaded(LOADED, "cpu")
    record.loaded_mono = record.last_used = 100.0
    assert record.to_status(now=112.34).idle_for_s == 12.3
    record.last_used = 110.0  # it served a request
    assert record.to_status(now=112.34).idle_for_s == 2.3
    assert record.to_status().idle_for_s is None  # no clock given
    record.mark_unloaded()
    assert record.to_status(now=200.0).idle_for_s is None
