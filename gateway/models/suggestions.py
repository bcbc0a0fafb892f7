"""Concrete next steps to offer with each kind of load failure.

An alternative is offered only of the failed model's own kind (a translation model's failure
never suggests a Whisper model), and only one that is on this machine already.
"""

from __future__ import annotations

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import ModelKind

_KIND_NAMES: dict[ModelKind, str] = {"asr": "speech recognition", "mt": "translation"}


def suggestions_for(
    error: ServiceError,
    model_id: str,
    smaller: list[str],
    kind: ModelKind = "asr",
    ready: str | None = None,
) -> list[str]:
    """`smaller`: lighter models of the same family; `ready`: a model of the same kind that
    is on this machine and loads without a download (None: there is none)."""
    code = error.code
    alternative = _alternative(kind, ready, model_id)
    if code == ErrorCode.DOWNLOAD_REQUIRED:
        repo = error.details.get("repo_id", model_id)
        if error.details.get("offline") is False:  # online, but the transfer failed
            return [
                "Retry the load: nothing partial was kept, the download starts afresh",
                "Check that this host reaches the hub (HF_ENDPOINT, proxy settings)",
                *alternative,
            ]
        revision = error.details.get("revision")
        pinned = f" --revision {revision}" if revision else ""
        return [
            f"Download the weights while online: `hf download {repo}{pinned}`",
            "Unset LX_OFFLINE / HF_HUB_OFFLINE to let the service download them",
            *alternative,
        ]
    if code == ErrorCode.LICENSE_ERROR:
        repo = error.details.get("repo_id", model_id)
        return [
            f"Accept the model's license at https://huggingface.co/{repo} while logged in",
            "Set HF_TOKEN for the service to a token of that account (read access), "
            "then restart it",
            *alternative,
        ]
    if code == ErrorCode.INSUFFICIENT_MEMORY:
        tips = ["Use CPU instead of GPU", "Try int8 quantization", "Unload idle models first"]
        tips += [f"Use a smaller model variant: {m}" for m in smaller[:2]]
        return tips
    if code == ErrorCode.UNSUPPORTED_DEVICE:
        return [
            "Use device 'auto' to let the service place the model",
            "Use compute type int8 or float32 on CPU; float16 needs a GPU",
        ]
    if code == ErrorCode.WORKER_UNAVAILABLE:
        return ["Retry once the worker is back (GET /healthz shows worker states)"]
    if code == ErrorCode.LOADING_TIMEOUT:
        return ["Raise LX_LOAD_TIMEOUT_MS", "Try a smaller model variant"]
    return ["Check the model files and the gateway log"]


def _alternative(kind: ModelKind, ready: str | None, model_id: str) -> list[str]:
    if ready is not None and ready != model_id:
        return [f"Use {ready}, a {_KIND_NAMES[kind]} model already on this machine"]
    if ready is None:
        return [f"No other {_KIND_NAMES[kind]} model is on this machine: download one first"]
    return []
