from __future__ import annotations

import asyncio

from gateway.models.load_slots import LoadSlots, Priority


def test_waiting_loads_start_by_priority_then_arrival() -> None:
    async def scenario() -> list[str]:
        slots = LoadSlots()
        order: list[str] = []
        release = asyncio.Event()

        async def load(name: str, priority: Priority) -> None:
            async with slots.slot("cpu", priority):
                order.append(name)
                if name == "first":
                    await release.wait()

        first = asyncio.create_task(load("first", "low"))
        await asyncio.sleep(0)
        asked: list[tuple[str, Priority]] = [
            ("low", "low"),
            ("normal-1", "normal"),
            ("high", "high"),
            ("normal-2", "normal"),
        ]
        waiting = [asyncio.create_task(load(name, prio)) for name, prio in asked]
        await asyncio.sleep(0)
        assert slots.queued("cpu") == 4
        release.set()
        await asyncio.gather(first, *waiting)
        return order

    assert asyncio.run(scenario()) == ["first", "high", "normal-1", "normal-2", "low"]


def test_workers_have_separate_slots_and_a_cancelled_wait_leaves_the_queue() -> None:
    async def scenario() -> list[str]:
        slots = LoadSlots()
        order: list[str] = []
        hold = asyncio.Event()

        async def load(worker: str, name: str) -> None:
            async with slots.slot(worker):
                order.append(name)
                await hold.wait()

        cpu = asyncio.create_task(load("cpu", "cpu-1"))
        gpu = asyncio.create_task(load("cuda-0", "gpu-1"))
        await asyncio.sleep(0)
        assert order == ["cpu-1", "gpu-1"]  # neither waited for the other
        doomed = asyncio.create_task(load("cpu", "never"))
        later = asyncio.create_task(load("cpu", "cpu-2"))
        await asyncio.sleep(0)
        doomed.cancel()
        await asyncio.sleep(0)
        assert slots.queued("cpu") == 1
        hold.set()
        await asyncio.gather(cpu, gpu, later)
        return order

    assert asyncio.run(scenario()) == ["cpu-1", "gpu-1", "cpu-2"]
