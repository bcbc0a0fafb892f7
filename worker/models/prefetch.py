"""Download a model's files without loading them (`POST /api/models/{id}/download`), so a
machine can be prepared ahead; the bytes are reported as a load's downloading stage is."""

from __future__ import annotations

from collections.abc import Callable

from protocol.wire.messages import DownloadModel, DownloadResult, LoadProgress, WorkerMessage
from worker.models.files import resolve_model_dir


def prefetch(request: DownloadModel, send: Callable[[WorkerMessage], None]) -> None:
    """Fetch what is missing into the cache (nothing when all is there), then reply."""
    seen = [0, 0]

    def downloading(done: int, total: int) -> None:
        seen[:] = [done, total]
        send(
            LoadProgress(
                request_id=request.request_id,
                model_id=request.model_id,
                stage="downloading",
                progress=round(100.0 * done / total, 1) if total else 100.0,
                memory_used_mb=0.0,
                downloaded_bytes=done,
                total_bytes=total,
            )
        )

    folder = resolve_model_dir(request.model_id, request.source, downloading)
    send(
        DownloadResult(
            request_id=request.request_id,
            model_id=request.model_id,
            path=str(folder),
            downloaded_bytes=seen[0],
            total_bytes=seen[1],
        )
    )
