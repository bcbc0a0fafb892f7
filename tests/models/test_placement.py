"""Placement decisions on plain workers and models: which worker, what to evict, or why not."""

from __future__ import annotations

import pytest

from gateway.catalog import CatalogEntry, load_catalog
from gateway.models.cache_policy import CachedModel, CachePolicy
from gateway.models.memory_estimate import MemoryEstimator
from gateway.models.placement import (
    Admission,
    Placement,
    WorkerWait,
    available_mb,
    check_compute_type,
)
from gateway.workers.pool import WorkerState
from protocol.errors import ErrorCode, ServiceError
from tests.models.fakes import memory, worker

CATALOG = load_catalog()
LARGE = "openai/whisper-large-v3"  # GPU recommended; about 6350 MB as float16
TINY = "openai/whisper-tiny.en"  # runs well on CPU; 270 MB as int8
NLLB = "facebook/nllb-200-distilled-600M"  # translation: always wants a GPU


def _entry(model_id: str) -> CatalogEntry:
    found = CATALOG.get(model_id)
    assert found is not None
    return found


def _placement(
    policy: CachePolicy | None = None,
    limit_mb: int | None = None,
    estimator: MemoryEstimator | None = None,
) -> Placement:
    return Placement(CATALOG, estimator or MemoryEstimator(), policy or CachePolicy(), limit_mb)


def _cached(
    model_id: str, worker_id: str = "cpu", *, memory_mb: float = 300.0, last_used: float = 0.0
) -> CachedModel:
    return CachedModel(model_id, worker_id, memory_mb, 0.0, last_used, 0, busy=False)


def _chosen(choice: WorkerState | WorkerWait) -> str:
    assert isinstance(choice, WorkerState), choice
    return choice.worker_id


# ---------------------------------------------------------------- choosing the worker


def test_auto_puts_a_gpu_recommended_model_on_the_first_gpu_with_room() -> None:
    workers = [
        worker("cpu"),
        worker("cuda-0", "cuda:0", free_mb=4000),  # too small for about 6350 MB
        worker("cuda-1", "cuda:1", free_mb=8000),
    ]
    assert _chosen(_placement().choose_worker(_entry(LARGE), "auto", workers, 0.0)) == "cuda-1"


def test_auto_falls_back_to_the_cpu_when_no_gpu_has_room_or_none_is_ready() -> None:
    workers = [
        worker("cpu"),
        worker("cuda-0", "cuda:0", free_mb=4000),
        worker("cuda-1", "cuda:1", free_mb=8000, state="starting"),
        worker("cuda-2", "cuda:2", free_mb=None),  # memory not yet known: not counted on
    ]
    assert _chosen(_placement().choose_worker(_entry(LARGE), "auto", workers, 0.0)) == "cpu"


def test_auto_keeps_a_model_that_runs_well_on_cpu_on_the_cpu() -> None:
    workers = [worker("cuda-0", "cuda:0", free_mb=80_000), worker("cpu")]
    placement = _placement()
    assert _chosen(placement.choose_worker(_entry(TINY), "auto", workers, 0.0)) == "cpu"
    # Translation models have no CPU recommendation: they go to a GPU with room.
    assert _chosen(placement.choose_worker(_entry(NLLB), "auto", workers, 0.0)) == "cuda-0"


def test_the_worker_memory_limit_caps_the_room_auto_sees_on_a_gpu() -> None:
    gpu = worker("cuda-0", "cuda:0", free_mb=80_000)
    gpu.memory = memory(80_000, device_used_mb=500)
    workers = [gpu, worker("cpu")]
    # 7000 - 500 used leaves 6500 >= 6350; 6500 - 500 leaves 6000, too little.
    assert _chosen(_placement(limit_mb=7000).choose_worker(_entry(LARGE), "auto", workers, 0)) == (
        "cuda-0"
    )
    assert _chosen(_placement(limit_mb=6500).choose_worker(_entry(LARGE), "auto", workers, 0)) == (
        "cpu"
    )


def test_an_explicit_device_gets_its_own_worker_even_without_room() -> None:
    workers = [
        worker("cpu"),
        worker("cuda-0", "cuda:0", free_mb=80_000),
        worker("cuda-1", "cuda:1", free_mb=10),
    ]
    placement = _placement()
    assert _chosen(placement.choose_worker(_entry(TINY), "cuda:1", workers, 0.0)) == "cuda-1"
    assert _chosen(placement.choose_worker(_entry(LARGE), "cpu", workers, 0.0)) == "cpu"


def test_among_several_workers_the_one_holding_fewest_models_is_chosen() -> None:
    workers = [
        worker("a", models=("m1", "m2")),
        worker("b", models=("m3",)),
        worker("cuda-0", "cuda:0", models=("m4", "m5")),
        worker("cuda-1", "cuda:1", models=("m6",)),
    ]
    placement = _placement()
    assert _chosen(placement.choose_worker(_entry(TINY), "auto", workers, 0.0)) == "b"
    assert _chosen(placement.choose_worker(_entry(TINY), "cuda", workers, 0.0)) == "cuda-1"


def test_a_draining_worker_is_not_placed() -> None:
    workers = [worker("a", state="draining"), worker("b", models=("m1", "m2"))]
    assert _chosen(_placement().choose_worker(_entry(TINY), "cpu", workers, 0.0)) == "b"


def test_a_device_no_worker_serves_is_unsupported_device() -> None:
    workers = [worker("cpu"), worker("cuda-0", "cuda:0")]
    with pytest.raises(ServiceError) as raised:
        _placement().choose_worker(_entry(TINY), "cuda:3", workers, 0.0)
    assert raised.value.code is ErrorCode.UNSUPPORTED_DEVICE
    assert raised.value.details == {"device": "cuda:3", "devices": ["cpu", "cuda:0"]}


def test_auto_with_no_gpu_room_and_no_cpu_worker_is_unsupported_device_for_cpu() -> None:
    workers = [worker("cuda-0", "cuda:0", free_mb=100)]
    with pytest.raises(ServiceError) as raised:
        _placement().choose_worker(_entry(LARGE), "auto", workers, 0.0)
    assert raised.value.code is ErrorCode.UNSUPPORTED_DEVICE
    assert raised.value.details["device"] == "cpu"


def test_only_failed_workers_is_worker_unavailable_at_once() -> None:
    workers = [worker("cpu", state="failed"), worker("cuda-0", "cuda:0")]
    with pytest.raises(ServiceError) as raised:
        _placement().choose_worker(_entry(TINY), "cpu", workers, now=0.0)
    assert raised.value.code is ErrorCode.WORKER_UNAVAILABLE
    assert "operator must restart" in raised.value.message
    summaries = raised.value.details["workers"]
    assert [(s.worker_id, s.state) for s in summaries] == [("cpu", "failed")]


def test_workers_not_ready_yet_are_waited_for_then_the_ready_one_is_taken() -> None:
    starting = worker("cpu-1", state="starting")
    restarting = worker("cpu-2", state="restarting")
    workers = [starting, restarting, worker("cuda-0", "cuda:0", state="starting")]
    choice = _placement().choose_worker(_entry(TINY), "cpu", workers, 0.0)
    assert isinstance(choice, WorkerWait)
    assert choice.device == "cpu"
    assert [w.worker_id for w in choice.workers] == ["cpu-1", "cpu-2"]
    restarting.ready.set()
    assert choice.ready_worker(waited_s=30.0).worker_id == "cpu-2"


def test_a_wait_that_ends_with_no_ready_worker_is_worker_unavailable() -> None:
    workers = [worker("cpu-1", state="starting"), worker("cpu-2", state="failed")]
    choice = _placement().choose_worker(_entry(TINY), "cpu", workers, 0.0)
    assert isinstance(choice, WorkerWait)
    with pytest.raises(ServiceError) as raised:
        choice.ready_worker(waited_s=30.0)
    assert raised.value.code is ErrorCode.WORKER_UNAVAILABLE
    assert "became ready in 30 s" in raised.value.message
    assert raised.value.details == {"device": "cpu", "workers": ["cpu-1", "cpu-2"]}


def test_a_compute_type_the_worker_lacks_is_unsupported_device() -> None:
    cpu = worker("cpu", compute_types=("int8", "float32"))
    check_compute_type(cpu, "default")  # "default" always runs: it becomes int8 here
    check_compute_type(cpu, "int8")
    with pytest.raises(ServiceError) as raised:
        check_compute_type(cpu, "float16")
    assert raised.value.code is ErrorCode.UNSUPPORTED_DEVICE
    assert raised.value.details == {
        "device": "cpu",
        "compute_type": "float16",
        "supported": ["int8", "float32"],
    }


# ---------------------------------------------------------------- the cache's limit


def test_a_full_cache_evicts_by_its_policy_to_leave_room_for_one_more() -> None:
    cached = [
        _cached("old", last_used=1),
        _cached("newer", last_used=5),
        _cached("newest", last_used=9),
    ]
    lru = _placement(CachePolicy(max_models_loaded=2))
    assert [(e.model_id, e.reason) for e in lru.cache_full(cached)] == [
        ("old", "cache_full"),
        ("newer", "cache_full"),
    ]
    assert _placement(CachePolicy(max_models_loaded=4)).cache_full(cached) == []
    assert [
        e.model_id for e in _placement(CachePolicy(max_models_loaded=3)).cache_full(cached)
    ] == ["old"]


# ---------------------------------------------------------------- memory admission


def test_a_model_that_fits_is_admitted_with_its_estimate_and_nothing_evicted() -> None:
    cpu = worker("cpu", free_mb=1000)
    admission = _placement().admit(_entry(TINY), cpu, "int8", [_cached("other")])
    assert admission == Admission(required_mb=270, evictions=[])


def test_unknown_worker_memory_admits_the_load() -> None:
    cpu = worker("cpu", free_mb=None)
    assert _placement().admit(_entry(LARGE), cpu, "int8", []).evictions == []


def test_admission_uses_what_a_real_load_measured() -> None:
    estimator = MemoryEstimator()
    estimator.record(TINY, "int8", "cpu", 900.0)
    cpu = worker("cpu", free_mb=800)
    with pytest.raises(ServiceError) as raised:
        _placement(estimator=estimator).admit(_entry(TINY), cpu, "int8", [])
    assert raised.value.details["required_mb"] == 900.0


def test_making_room_evicts_idle_models_on_the_same_worker_only() -> None:
    cpu = worker("cpu", free_mb=200)  # tiny.en needs 270: 70 MB short
    cached = [
        _cached("elsewhere", "cuda-0", memory_mb=5000, last_used=0),
        _cached("recent", memory_mb=100, last_used=9),
        _cached("stale", memory_mb=50, last_used=1),
        _cached("staler", memory_mb=50, last_used=0),
    ]
    admission = _placement().admit(_entry(TINY), cpu, "int8", cached)
    assert admission.required_mb == 270
    assert [(e.model_id, e.reason) for e in admission.evictions] == [
        ("staler", "make_room"),
        ("stale", "make_room"),
    ]


def test_a_model_that_cannot_fit_is_refused_with_the_numbers_and_smaller_models() -> None:
    cpu = worker("cpu", free_mb=600)
    cpu.memory = memory(600, rss_mb=20)
    cached = [_cached("idle", memory_mb=100)]
    with pytest.raises(ServiceError) as raised:
        _placement(limit_mb=520).admit(_entry(LARGE), cpu, "int8", cached)
    error = raised.value
    assert error.code is ErrorCode.INSUFFICIENT_MEMORY
    assert "needs about 4800 MB on cpu; 500 MB is available" in error.message
    assert error.details == {
        "model_id": LARGE,
        "device": "cpu",
        "compute_type": "int8",
        "required_mb": 4800.0,
        "available_mb": 500.0,  # the limit less the worker's own 20 MB
        "limit_mb": 520,
        # ASR models that fit in 500 MB as int8, best quality first.
        "suggested_alternatives": [
            "openai/whisper-base.en",
            "openai/whisper-base",
            "openai/whisper-tiny.en",
        ],
    }


def test_available_memory_is_capped_by_the_limit_and_never_negative() -> None:
    cpu = worker("cpu")
    cpu.memory = memory(1000, rss_mb=300)
    gpu = worker("cuda-0", "cuda:0")
    gpu.memory = memory(1000, rss_mb=300, device_used_mb=700)
    assert available_mb(cpu, None) == 1000
    assert available_mb(cpu, 800) == 500  # on CPU the limit caps the process's RSS
    assert available_mb(gpu, 800) == 100  # on a GPU, the device memory used
    assert available_mb(gpu, 600) == 0.0
    assert available_mb(worker("new", free_mb=None), 800) is None
