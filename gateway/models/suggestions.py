"""Concrete next steps to offer with each kind of load failure."""

from __future__ import annotations

from protocol.errors import ErrorCode, ServiceError

_BUNDLED_ASR = "openai/whisper-tiny.en"


def suggestions_for(error: ServiceError, model_id: str, smaller: list[str]) -> list[str]:
    code = error.code
    if code == ErrorCode.DOWNLOAD_REQUIRED:
        repo = error.details.get("repo_id", model_id)
        if error.details.get("offline") is False:  # online, but the transfer failed
            return [
                "Retry the load: nothing partial was kept, the download starts afresh",
                "Check that this host reaches the hub (HF_ENDPOINT, proxy settings)",
                f"Use the bundled model {_BUNDLED_ASR}, which needs no download",
            ]
        return [
            f"Download the weights while online: `hf download {repo}`",
            "Unset LX_OFFLINE / HF_HUB_OFFLINE to let the service download them",
            f"Use the bundled model {_BUNDLED_ASR}, which needs no download",
        ]
    if code == ErrorCode.LICENSE_ERROR:
        repo = error.details.get("repo_id", model_id)
        return [
            f"Accept the model's license at https://huggingface.co/{repo} while logged in",
            "Set HF_TOKEN for the service to a token of that account (read access), "
            "then restart it",
            f"Use the bundled model {_BUNDLED_ASR}, which needs no license",
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
