"""What the hub's failures mean for a load, in the contract's error codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from huggingface_hub.errors import GatedRepoError, HfHubHTTPError

from protocol.errors import ErrorCode, ServiceError

_TOKEN_HINT = "set HF_TOKEN for the service to a token of an account that has access"


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from: huggingface_hub often wraps the real cause."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        return exc.response.status_code
    return None


def access_error(exc: BaseException, model_id: str, repo_id: str) -> ServiceError | None:
    """LICENSE_ERROR for a gated or private repository, MODEL_NOT_FOUND for a missing one;
    None when the hub did not refuse (unreachable, down, a broken transfer)."""
    chain = list(causes(exc))
    details: dict[str, Any] = {"model_id": model_id, "repo_id": repo_id}
    for cause in chain:
        if isinstance(cause, GatedRepoError):
            return ServiceError(
                ErrorCode.LICENSE_ERROR,
                f"{repo_id} is a gated repository: accept its license on the hub while logged "
                f"in, then {_TOKEN_HINT}.",
                {**details, "gated": True, "status": _status(cause)},
            )
    for cause in chain:
        status = _status(cause)
        if status in (401, 403):
            # The hub answers 401 for private repositories (and for ones it will not name).
            return ServiceError(
                ErrorCode.LICENSE_ERROR,
                f"The hub refused access to {repo_id} (HTTP {status}): it is private or gated; "
                f"{_TOKEN_HINT}.",
                {**details, "gated": False, "status": status},
            )
        if status == 404:
            return ServiceError(
                ErrorCode.MODEL_NOT_FOUND,
                f"The hub has no repository or revision {repo_id} for {model_id}.",
                {**details, "status": status},
            )
    return None


def describe(exc: BaseException) -> str:
    """One line naming the innermost cause, for `details["cause"]`."""
    innermost = list(causes(exc))[-1]
    text = str(innermost).strip().splitlines()
    return f"{type(innermost).__name__}: {text[0] if text else ''}".rstrip(": ")
