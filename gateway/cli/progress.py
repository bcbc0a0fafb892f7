"""A load's or a download's events as progress: one view per event, shown as a live bar on
a terminal or as plain lines (one per stage, and every tenth of a download) elsewhere.

Loads report stages (`resolving`, `downloading` with bytes, `loading_weights`,
`warming_up`) with an overall percentage that never goes back; downloads report bytes and
their percentage. The bar follows the percentage; bytes are shown beside it when known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from gateway.cli.tables import human_bytes

# Events that move a bar, and those that end a load or a download.
PROGRESS_EVENTS = {
    "model.load.started",
    "model.load.progress",
    "model.download.started",
    "model.download.progress",
}


@dataclass(frozen=True)
class ProgressView:
    model_id: str
    stage: str  # as people read it: "loading weights"
    percent: float  # 0..100, as the event says (a load's overall figure, a download's bytes)
    done_bytes: int | None = None
    total_bytes: int | None = None


def view_of(event: dict[str, Any]) -> ProgressView | None:
    """The progress an event reports, or None for any other event."""
    kind = event.get("t")
    data = event.get("data") or {}
    if kind not in PROGRESS_EVENTS or "model_id" not in data:
        return None
    model_id = str(data["model_id"])
    if kind in ("model.load.started", "model.download.started"):
        stage = "starting" if kind == "model.load.started" else "downloading"
        return ProgressView(model_id, stage, 0.0)
    total = data.get("total_bytes")
    done = data.get("downloaded_bytes")
    stage = str(data.get("stage", "downloading")).replace("_", " ")
    percent = _clamp(float(data.get("progress", 0.0)))
    if stage == "downloading" and total:
        return ProgressView(model_id, stage, percent, int(done or 0), int(total))
    return ProgressView(model_id, stage, percent)


def bar(percent: float, width: int = 24) -> str:
    filled = round(width * _clamp(percent) / 100)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def progress_line(view: ProgressView) -> str:
    line = f"{bar(view.percent)} {view.percent:5.1f}%  {view.stage}"
    if view.total_bytes:
        line += f"  {human_bytes(view.done_bytes or 0)} / {human_bytes(view.total_bytes)}"
    return line


class LineProgress:
    """Plain lines for logs and pipes: a line when the stage changes, and while bytes move,
    one each time another tenth of them has come (and at the end)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._stage: str | None = None
        self._tenth = -1

    def show(self, view: ProgressView) -> None:
        tenth = -1
        if view.total_bytes:
            tenth = min(10 * (view.done_bytes or 0) // view.total_bytes, 10)
        if view.stage == self._stage and tenth <= self._tenth:
            return
        self._stage, self._tenth = view.stage, tenth
        self._write(progress_line(view))

    def close(self) -> None:
        pass


class _Amount(ProgressColumn):
    """Bytes while they are known, else nothing: one task changes unit between stages."""

    def render(self, task: Task) -> Text:
        done, total = task.fields.get("done_bytes"), task.fields.get("total_bytes")
        if not total:
            return Text("")
        return Text(f"{human_bytes(done or 0)} / {human_bytes(total)}", style="progress.download")


class LiveProgress:
    """A live bar on a terminal, redrawn as events come."""

    def __init__(self, console: Console, title: str) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("[bold]{task.fields[stage]}"),
            _Amount(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task = self._progress.add_task(
            title, total=100.0, stage="", done_bytes=None, total_bytes=None
        )
        self._progress.start()

    def show(self, view: ProgressView) -> None:
        self._progress.update(
            self._task,
            completed=view.percent,
            stage=view.stage,
            done_bytes=view.done_bytes,
            total_bytes=view.total_bytes,
        )

    def close(self) -> None:
        self._progress.stop()


ProgressShow = LineProgress | LiveProgress


def progress_for(console: Console, title: str) -> ProgressShow:
    if console.is_terminal:
        return LiveProgress(console, title)
    return LineProgress(
        lambda line: console.print(f"{title} {line}", markup=False, highlight=False, soft_wrap=True)
    )


def _clamp(percent: float) -> float:
    return min(max(percent, 0.0), 100.0)
