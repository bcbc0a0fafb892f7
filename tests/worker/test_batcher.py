"""The batching rule, the bounded queues and the batch runner, in process (no worker)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.options import TranslateOptions
from protocol.wire.messages import Translate
from worker.engines.mt_batch import batch_key, translate_together
from worker.engines.translation import TranslationOutput
from worker.scheduling.batcher import Pending, due_in, plan_batch, take_batch
from worker.scheduling.lanes import LanePolicy, RequestQueues
from worker.scheduling.throughput import ServiceRate


def pending(name: str, key: str = "fra", size: int = 1, at: float = 0.0) -> Pending[str]:
    return Pending(item=name, key=key, size=size, enqueued_at=at)


def names(batch: list[Pending[str]] | None) -> list[str]:
    assert batch is not None
    return [p.item for p in batch]


# ---------------------------------------------------------------- grouping


def test_the_head_takes_every_later_request_with_its_key_in_order() -> None:
    queue = deque(
        [pending("a"), pending("x", "deu"), pending("b"), pending("y", "deu"), pending("c")]
    )
    assert names(take_batch(queue, max_size=32, timeout_s=0.0, now=0.0)) == ["a", "b", "c"]
    assert [p.item for p in queue] == ["x", "y"]
    assert names(take_batch(queue, max_size=32, timeout_s=0.0, now=0.0)) == ["x", "y"]
    assert not queue


def test_sizes_count_texts_and_a_request_never_splits() -> None:
    queue = deque([pending("a", size=2), pending("b", size=2), pending("c", size=1)])
    # a + b fill 4; c would make 5: it waits for the next batch, order kept.
    assert plan_batch(queue, max_size=4) == ([0, 1], True)
    assert plan_batch(queue, max_size=3) == ([0], True)  # b does not fit, c may not pass it
    big = deque([pending("huge", size=50), pending("small")])
    assert names(take_batch(big, max_size=8, timeout_s=9.0, now=0.0)) == ["huge"]


def test_a_batch_waits_for_company_until_full_or_timed_out() -> None:
    queue = deque([pending("a", at=10.0), pending("b", at=10.002)])
    assert take_batch(queue, max_size=3, timeout_s=0.005, now=10.003) is None
    assert due_in(queue, timeout_s=0.005, now=10.003) == pytest.approx(0.002)
    queue.append(pending("c", at=10.004))
    assert names(take_batch(queue, max_size=3, timeout_s=0.005, now=10.004)) == ["a", "b", "c"]

    queue = deque([pending("a", at=10.0), pending("b", at=10.002)])
    assert names(take_batch(queue, max_size=3, timeout_s=0.005, now=10.005)) == ["a", "b"]
    assert take_batch(queue, max_size=3, timeout_s=0.005, now=10.005) is None  # empty


def test_translations_share_a_key_only_when_the_call_would_be_the_same() -> None:
    def request(target: str = "fra_Latn", **options: Any) -> Translate:
        return Translate(
            request_id="r",
            model_id="m",
            texts=["x"],
            source_language="eng_Latn",
            target_language=target,
            options=TranslateOptions(**options),
        )

    assert batch_key(request()) == batch_key(request(return_scores=True))
    assert batch_key(request()) != batch_key(request("deu_Latn"))
    assert batch_key(request()) != batch_key(request(beam_size=1))
    assert batch_key(request()) != batch_key(request(max_new_tokens=8))


# ---------------------------------------------------------------- one call, sliced


class FakeEngine:
    """Upper-cases texts; refuses any text containing "bad", like an over-long text."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def translate_batch(
        self, texts: list[str], source_lang: str, target_lang: str, options: TranslateOptions
    ) -> list[TranslationOutput]:
        self.calls.append(list(texts))
        for index, text in enumerate(texts):
            if "bad" in text:
                raise ServiceError(ErrorCode.INVALID_REQUEST, "too long", {"index": index})
        return [TranslationOutput(text=t.upper(), score=-0.1, tokens=len(t)) for t in texts]


def translate(rid: str, *texts: str) -> Translate:
    return Translate(
        request_id=rid,
        model_id="m",
        texts=list(texts),
        source_language="eng_Latn",
        target_language="fra_Latn",
    )


def test_one_call_serves_every_request_its_own_slice() -> None:
    engine = FakeEngine()
    outcomes = translate_together(engine, [translate("a", "x", "y"), translate("b", "z")])
    assert engine.calls == [["x", "y", "z"]]
    assert [[o.text for o in outcome.outputs or []] for outcome in outcomes] == [["X", "Y"], ["Z"]]
    assert [outcome.batch_size for outcome in outcomes] == [3, 3]


def test_a_failing_request_fails_alone_with_its_own_index() -> None:
    engine = FakeEngine()
    requests = [translate("a", "x"), translate("b", "ok", "bad"), translate("c", "z")]
    outcomes = translate_together(engine, requests)
    assert engine.calls[0] == ["x", "ok", "bad", "z"]  # tried together first, then alone
    assert [[t.text for t in o.outputs or []] for o in outcomes] == [["X"], [], ["Z"]]
    error = outcomes[1].error
    assert isinstance(error, ServiceError) and error.details == {"index": 1}
    assert error.__traceback__ is None  # it must not keep the engine's frames alive
    assert [o.batch_size for o in outcomes] == [1, 2, 1]


# ---------------------------------------------------------------- bounded queues


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def test_a_full_queue_refuses_at_once_with_the_numbers(executor: ThreadPoolExecutor) -> None:
    queues = RequestQueues(executor.submit)
    # A long timeout and a large batch: nothing leaves, so the queue only fills.
    policy = LanePolicy(max_batch_size=100, batch_timeout_s=60.0, concurrency=1, limit=2)
    try:
        queues.put("m", pending("a"), policy, lambda batch: None)
        queues.put("m", pending("b"), policy, lambda batch: None)
        with pytest.raises(ServiceError) as caught:
            queues.put("m", pending("c"), policy, lambda batch: None)
        assert caught.value.code is ErrorCode.QUEUE_FULL
        assert caught.value.details == {
            "retry_after_s": 1.0,  # nothing measured yet
            "queued": 2,
            "limit": 2,
            "model_id": "m",
        }
        queues.put("other", pending("d"), policy, lambda batch: None)  # lanes are per model
        assert (queues.queued("m"), queues.queued("other")) == (2, 1)
    finally:
        queues.close()


def test_requests_that_arrive_while_the_model_is_busy_leave_together(
    executor: ThreadPoolExecutor,
) -> None:
    queues = RequestQueues(executor.submit)
    policy = LanePolicy(max_batch_size=10, batch_timeout_s=0.0, concurrency=1, limit=10)
    batches: list[list[str]] = []
    started = threading.Event()
    release = threading.Event()
    done = threading.Event()

    def run(batch: list[Pending[Any]]) -> None:
        batches.append([p.item for p in batch])
        started.set()
        release.wait(10)
        if len(batches) == 2:
            done.set()

    try:
        queues.put("m", pending("a"), policy, run)
        assert started.wait(10)
        for name in "bcd":  # the model is busy with "a": these wait, together
            queues.put("m", pending(name), policy, run)
        assert queues.queued("m") == 3
        release.set()
        assert done.wait(10)
        assert batches == [["a"], ["b", "c", "d"]]
    finally:
        release.set()
        queues.close()


def test_retry_after_follows_the_measured_rate() -> None:
    rate = ServiceRate(smoothing=0.5)
    assert rate.retry_after_s(10, 1) == 1.0  # unmeasured: a guess
    rate.record(requests=4, elapsed_s=0.8)  # 0.2 s per request
    assert rate.retry_after_s(10, 1) == pytest.approx(2.0)
    assert rate.retry_after_s(10, 2) == pytest.approx(1.0)
    rate.record(requests=1, elapsed_s=0.6)  # halfway to 0.6: 0.4 s per request
    assert rate.retry_after_s(10, 1) == pytest.approx(4.0)
    assert rate.retry_after_s(0, 1) == 0.1  # never "retry now"
