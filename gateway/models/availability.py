"""What the gateway knows of a model it has not loaded: whether its weights are on this machine.

Two decisions follow from that, both plain code:
- offline, a load of a model that is not here is refused at once (409 DOWNLOAD_REQUIRED),
  before any worker is asked, as long as the worker shares the gateway's disk (a remote
  worker has its own cache, so it is asked);
- a model never loaded nor checked has no health check yet. The contract's `health_check` is
  required and has no "unknown", so it reports the one check made: discovery's look at the
  disk (`last_check` is when discovery last looked), `healthy` when a load can succeed as far
  as that look tells (the weights are here, or the service may download them) and
  `unhealthy` when it cannot (not here, and offline). Never a fresh time for a check that did
  not happen.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.catalog import CatalogEntry
from protocol.api.catalog import ModelLocation
from protocol.api.lifecycle import HealthCheckSummary
from protocol.errors import ErrorCode, ServiceError


@dataclass(frozen=True)
class Availability:
    """Discovery's answer for one model, and when it looked."""

    on_disk: bool
    offline: bool
    checked_at: str

    def health(self) -> HealthCheckSummary:
        loadable = self.on_disk or not self.offline
        return HealthCheckSummary(
            last_check=self.checked_at,
            status="healthy" if loadable else "unhealthy",
            response_time_ms=0.0,
            error_rate=0.0,
        )


def is_on_disk(location: ModelLocation | None) -> bool:
    return location is not None and location.kind != "download_required"


def offline_refusal(
    entry: CatalogEntry,
    location: ModelLocation | None,
    offline: bool,
    remote_worker: bool,
    listed_bytes: int | None = None,
) -> ServiceError | None:
    """DOWNLOAD_REQUIRED when this load can only fail: offline, and the weights are not on the
    disk the worker reads (the gateway's own); None when the worker should try.
    `listed_bytes`: the size a listing cached by an earlier download gives, if any (else the
    catalog's figure is given)."""
    if not offline or remote_worker or location is None or is_on_disk(location):
        return None
    weights = entry.weights
    size_mb = round(listed_bytes / 1e6, 1) if listed_bytes else float(entry.info.size_mb)
    details: dict[str, object] = {
        "model_id": entry.model_id,
        "repo_id": weights.repo_id,
        "size_mb": size_mb,
        "offline": True,
    }
    if listed_bytes:
        details["size_bytes"] = listed_bytes
    if weights.revision:
        details["revision"] = weights.revision
    return ServiceError(
        ErrorCode.DOWNLOAD_REQUIRED,
        f"Model {entry.model_id} is not on this machine and the service is offline "
        f"(LX_OFFLINE / HF_HUB_OFFLINE): its weights (about {size_mb:.0f} MB) must first be "
        f"downloaded from {weights.repo_id}.",
        details,
    )
