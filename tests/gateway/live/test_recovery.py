"""When a live stream is re-opened after its worker failed, and when it gives up."""

from __future__ import annotations

from gateway.live.recovery import RecoveryPolicy
from protocol.errors import ErrorCode, ServiceError

_LOST = ServiceError(ErrorCode.WORKER_UNAVAILABLE, "went away", {"worker_id": "cpu"})


def test_a_lost_worker_is_retried_with_growing_delays_then_given_up() -> None:
    policy = RecoveryPolicy(max_attempts=3, first_delay_s=0.5, max_delay_s=1.5)
    assert [policy.retry_after(_LOST) for _ in range(4)] == [0.5, 1.0, 1.5, None]


def test_a_final_between_failures_starts_the_count_again() -> None:
    policy = RecoveryPolicy(max_attempts=2, first_delay_s=1.0)
    assert policy.retry_after(_LOST) == 1.0
    assert policy.retry_after(_LOST) == 2.0
    policy.progressed()
    assert policy.retry_after(_LOST) == 1.0


def test_errors_of_the_request_itself_end_the_stream() -> None:
    policy = RecoveryPolicy()
    for code in (ErrorCode.MODEL_NOT_FOUND, ErrorCode.INVALID_REQUEST, ErrorCode.INFERENCE_ERROR):
        assert policy.retry_after(ServiceError(code, "no")) is None
    # Too big to load is the model's size, not a worker that died of memory.
    assert policy.retry_after(ServiceError(ErrorCode.INSUFFICIENT_MEMORY, "too big")) is None
    died = ServiceError(ErrorCode.INSUFFICIENT_MEMORY, "oom", {"worker_id": "cpu"})
    assert policy.retry_after(died) == policy.first_delay_s


def test_a_worker_that_stopped_answering_is_retried() -> None:
    assert RecoveryPolicy().retry_after(TimeoutError()) is not None
