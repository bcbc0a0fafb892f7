"""The decode plan: concurrency, threads, replicas and batching from the cores or the GPU."""

from __future__ import annotations

import pytest

from worker.decode_plan import CPU_MAX_REPLICAS, DecodePlan, plan_decoding


def _figures(plan: DecodePlan) -> tuple[int, int, int, int, bool]:
    return (plan.concurrency, plan.threads, plan.replicas, plan.max_batch_size, plan.batch_encode)


def test_long_files_fill_the_replicas_and_leave_the_other_slots_to_interactive_work() -> None:
    for cores in (1, 2, 4, 8, 16):
        plan = plan_decoding("cpu", cores)
        assert plan.bulk_limit == plan.replicas < plan.concurrency
    # No slot beyond the replicas: a cap on long files would only leave a replica idle.
    assert plan_decoding("cpu", 2, concurrency=2).bulk_limit == 2
    assert plan_decoding("cpu", 2, concurrency=1).bulk_limit == 1
    # One more slot than replicas: that one stays for interactive work.
    assert plan_decoding("cpu", 2, concurrency=3).bulk_limit == 2
    assert plan_decoding("cuda:0", 16, device_memory_mb=80_000).bulk_limit == 4


@pytest.mark.parametrize(
    ("cores", "expected"),
    [
        # (concurrency, threads per decode, replicas, batch size, encoder batched)
        (1, (2, 1, 1, 1, False)),
        (2, (4, 1, 2, 1, False)),
        (4, (8, 1, 4, 1, False)),
        (8, (8, 2, 4, 1, False)),
        (16, (8, 4, 4, 1, False)),
    ],
)
def test_on_a_cpu_every_core_decodes_up_to_the_replica_cap_then_threads_grow(
    cores: int, expected: tuple[int, int, int, int, bool]
) -> None:
    plan = plan_decoding("cpu", cores)
    assert _figures(plan) == expected
    assert plan.replicas <= CPU_MAX_REPLICAS
    assert plan.replicas * plan.threads <= cores or cores < plan.threads
    assert plan.chosen == "auto"


def test_faster_whisper_gets_as_many_replicas_as_decodes_run_in_parallel() -> None:
    # Concurrency without replicas would serialise in one CTranslate2 replica.
    for cores in (1, 2, 3, 4, 6, 8, 12, 16, 64):
        plan = plan_decoding("cpu", cores)
        assert 1 <= plan.replicas <= plan.concurrency
        assert plan.concurrency % plan.replicas == 0


def test_a_concurrency_set_by_hand_stays_and_bounds_the_replicas() -> None:
    one = plan_decoding("cpu", 2, concurrency=1)
    assert _figures(one) == (1, 1, 1, 1, False)  # one at a time: nothing to batch
    assert one.chosen == "LX_ASR_CONCURRENCY=1 set, the rest auto"
    two = plan_decoding("cpu", 2, concurrency=2)
    assert _figures(two) == (2, 1, 2, 1, False)  # both really in parallel
    six = plan_decoding("cpu", 2, concurrency=6)
    assert _figures(six) == (6, 1, 2, 1, False)  # two replicas; no batching on a CPU


def test_threads_set_by_hand_stay_and_the_replicas_share_the_cores() -> None:
    plan = plan_decoding("cpu", 2, threads=2)
    assert _figures(plan) == (2, 2, 1, 1, False)
    assert plan.chosen == "LX_WORKER_CPU_THREADS=2 set, the rest auto"
    both = plan_decoding("cpu", 8, concurrency=3, threads=2)
    assert _figures(both) == (3, 2, 3, 1, False)
    assert both.chosen == "LX_ASR_CONCURRENCY=3, LX_WORKER_CPU_THREADS=2 set, the rest auto"
    # More threads than cores still gets one replica.
    assert plan_decoding("cpu", 2, threads=8).replicas == 1


def test_batching_on_a_cpu_is_off_unless_asked_for_and_then_takes_the_encoder_too() -> None:
    # It does not pay there (bench/README.md); asked for, windows must be able to meet.
    asked = plan_decoding("cpu", 2, batch_size=4)
    assert (asked.max_batch_size, asked.batch_encode) == (4, True)
    assert asked.chosen == "LX_ASR_BATCH_SIZE=4 set, the rest auto"
    assert plan_decoding("cpu", 2, batch_size=1).max_batch_size == 1


def test_on_a_gpu_batches_are_wide_and_take_the_encoder_too() -> None:
    plan = plan_decoding("cuda:0", 16, device_memory_mb=80_000)
    assert _figures(plan) == (8, 1, 2, 8, True)
    small = plan_decoding("cuda:1", 16, device_memory_mb=6_000)
    assert small.concurrency == 4 and small.max_batch_size == 4
    by_hand = plan_decoding("cuda:0", 16, concurrency=1)
    assert _figures(by_hand) == (1, 1, 1, 1, True)
    assert plan_decoding("cuda:0", 16, batch_size=3).max_batch_size == 3


def test_the_description_says_what_was_chosen() -> None:
    text = plan_decoding("cpu", 2).describe()
    assert text == (
        "4 transcriptions at once (2 for long files) on 2 replicas of 1 thread(s), "
        "no batching; auto"
    )
    batched = plan_decoding("cpu", 2, concurrency=4, batch_size=4).describe()
    assert "batches of 4 (encoder too)" in batched
