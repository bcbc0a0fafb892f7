"""Response bodies as table rows, and the figures people read (sizes, durations).

Plain functions on decoded JSON, so their tests need no gateway; `render` draws rows as a
rich table without borders, like `ollama ps`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

STATUS_HEADERS = ("MODEL", "STATUS", "DEVICE", "MEMORY", "IDLE FOR", "INFERENCES", "P95")
WORKER_HEADERS = ("WORKER", "DEVICE", "STATE", "PID", "UPTIME", "RESTARTS", "IN FLIGHT", "MODELS")
CATALOG_HEADERS = ("MODEL", "KIND", "SIZE", "ON THIS MACHINE", "STATUS")

_NONE = "-"


def human_bytes(count: float) -> str:
    """Decimal units, as download sizes are usually given: 1.5 MB is 1,500,000 bytes."""
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def human_mb(mb: float | None) -> str:
    return _NONE if mb is None else f"{mb:.1f} MB"


def human_duration(seconds: float | None) -> str:
    """`42s`, `3m 05s`, `2h 07m`, `3d 04h`; `-` when unknown."""
    if seconds is None:
        return _NONE
    whole = int(max(seconds, 0.0))
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def _ms(value: float | None) -> str:
    return _NONE if not value else f"{value:.0f} ms"


def status_rows(body: dict[str, Any], everything: bool = False) -> list[list[str]]:
    """One row per model from GET /api/models/status; only those not idle on disk
    (`not_loaded`) unless `everything`."""
    rows = []
    for status in [*body.get("asr_models", []), *body.get("mt_models", [])]:
        if status["status"] == "not_loaded" and not everything:
            continue
        metrics = status.get("performance_metrics") or {}
        count = int(status.get("inference_count", 0))
        rows.append(
            [
                status["model_id"],
                status["status"],
                status.get("device") or _NONE,
                human_mb(status.get("memory_usage_mb")) if status["status"] == "loaded" else _NONE,
                human_duration(status.get("idle_for_s")),
                str(count),
                _ms(metrics.get("p95_inference_time_ms")) if count else _NONE,
            ]
        )
    return rows


def worker_rows(body: dict[str, Any]) -> list[list[str]]:
    rows = []
    for worker in body.get("workers", []):
        state = worker["state"]
        if worker.get("drained"):
            state += " (drained)"
        rows.append(
            [
                worker["worker_id"],
                worker["device"],
                state,
                _NONE if worker.get("pid") is None else str(worker["pid"]),
                human_duration(worker.get("uptime_s")),
                str(worker.get("restart_count", 0)),
                str(worker.get("in_flight", 0)),
                ", ".join(worker.get("models", [])) or _NONE,
            ]
        )
    return rows


def catalog_rows(
    asr: dict[str, Any], mt: dict[str, Any], status: dict[str, Any] | None = None
) -> list[list[str]]:
    """Every catalogued model, where it is on this machine, and its status."""
    states = {}
    if status is not None:
        for item in [*status.get("asr_models", []), *status.get("mt_models", [])]:
            states[item["model_id"]] = item["status"]
    rows = []
    for kind, body in (("asr", asr), ("mt", mt)):
        default = body.get("default_model")
        for model in body.get("models", []):
            model_id = model["model_id"]
            where = (model.get("location") or {}).get("kind", _NONE).replace("_", " ")
            name = f"{model_id} (default)" if model_id == default else model_id
            size = human_mb(model.get("size_mb"))
            rows.append([name, kind, size, where, states.get(model_id, _NONE)])
    return rows


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, highlight=False)
    for header in headers:
        table.add_column(header, no_wrap=True, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # never read as markup
    return table
