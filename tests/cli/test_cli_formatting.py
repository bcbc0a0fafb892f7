"""What the CLI prints, from plain data: events -> progress views -> lines, bodies -> table
rows, error reports, the human figures; no gateway, no process."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from gateway.cli.client import ServiceFailure, failure_from
from gateway.cli.follow import DOWNLOAD, LOAD, outcome_of, with_event_suggestions
from gateway.cli.output import error_lines
from gateway.cli.progress import (
    LineProgress,
    LiveProgress,
    ProgressView,
    bar,
    progress_line,
    view_of,
)
from gateway.cli.tables import (
    STATUS_HEADERS,
    catalog_rows,
    human_bytes,
    human_duration,
    render,
    status_rows,
    worker_rows,
)

MODEL = "openai/whisper-base"


def _event(t: str, **data: Any) -> dict[str, Any]:
    return {"v": 1, "t": t, "sid": "sess_0123456789abcdef", "data": {"model_id": MODEL, **data}}


def _progress(stage: str, progress: float, **extra: Any) -> dict[str, Any]:
    return _event(
        "model.load.progress", stage=stage, progress=progress, memory_used_mb=0.0, **extra
    )


LOAD_EVENTS = [
    _event(
        "model.load.started",
        model_type="asr",
        estimated_load_time_ms=900.0,
        memory_required_mb=300.0,
    ),
    _progress("resolving", 5.0),
    *[
        _progress("downloading", 5.0 + 15.0 * done / 1000, downloaded_bytes=done, total_bytes=1000)
        for done in (0, 50, 120, 150, 480, 990, 1000)
    ],
    _progress("loading_weights", 20.0),
    _progress("warming_up", 80.0),
]


def test_each_load_event_is_a_view_with_bytes_while_downloading() -> None:
    views = [view_of(e) for e in LOAD_EVENTS]
    assert all(v is not None for v in views)
    assert [v.stage for v in views if v][:3] == ["starting", "resolving", "downloading"]
    downloading = [v for v in views if v and v.stage == "downloading"]
    assert [v.done_bytes for v in downloading] == [0, 50, 120, 150, 480, 990, 1000]
    assert {v.total_bytes for v in downloading} == {1000}
    assert downloading[-1].percent == 20.0  # the load's overall figure, not the bytes'
    assert views[-1] == ProgressView(MODEL, "warming up", 80.0)


def test_events_that_are_not_progress_have_no_view() -> None:
    assert view_of(_event("model.load.completed", load_time_ms=1.0)) is None
    assert view_of({"t": "worker.ready", "data": {"worker_id": "cpu"}}) is None


def test_plain_lines_come_per_stage_and_per_tenth_of_the_bytes() -> None:
    lines: list[str] = []
    shown = LineProgress(lines.append)
    for event in LOAD_EVENTS:
        view = view_of(event)
        assert view is not None
        shown.show(view)
    stages = [line.split("%", 1)[1].split()[0] for line in lines]
    # 0, 50 (same tenth as 0), 120 (1st), 150 (1st: skipped), 480 (4th), 990 (9th), 1000
    assert stages == ["starting", "resolving", *["downloading"] * 5, "loading", "warming"]
    downloads = [line for line in lines if "downloading" in line]
    assert [line.split("  ")[-1] for line in downloads] == [
        "0 B / 1.0 kB",
        "120 B / 1.0 kB",
        "480 B / 1.0 kB",
        "990 B / 1.0 kB",
        "1.0 kB / 1.0 kB",
    ]


def test_the_bar_fills_with_the_percentage() -> None:
    assert bar(0.0, 10) == "[----------]"
    assert bar(55.0, 10) == "[######----]"  # rounded to the nearest cell
    assert bar(100.0, 10) == "[##########]"
    assert bar(140.0, 10) == "[##########]"
    line = progress_line(ProgressView(MODEL, "downloading", 42.0, 4_200_000, 10_000_000))
    assert line == "[##########--------------]  42.0%  downloading  4.2 MB / 10.0 MB"


def test_outcomes_end_the_wait_only_for_their_model_and_family() -> None:
    done = _event("model.load.completed", load_time_ms=812.0, memory_usage_mb=75.0)
    assert outcome_of(done, MODEL, LOAD) == done["data"]
    assert outcome_of(done, "other/model", LOAD) is None
    assert outcome_of(done, MODEL, DOWNLOAD) is None
    failed = _event(
        "model.download.failed",
        error_code="LICENSE_ERROR",
        error_message="gated",
        suggestions=["Set HF_TOKEN"],
        details={"repo_id": "r"},
    )
    with pytest.raises(ServiceFailure) as raised:
        outcome_of(failed, MODEL, DOWNLOAD)
    assert (raised.value.code, raised.value.suggestions) == ("LICENSE_ERROR", ["Set HF_TOKEN"])
    assert raised.value.details == {"repo_id": "r"}


STATUS_BODY = {
    "asr_models": [
        {
            "model_id": "openai/whisper-tiny.en",
            "status": "loaded",
            "device": "cpu",
            "memory_usage_mb": 127.25,
            "inference_count": 3,
            "idle_for_s": 125.4,
            "performance_metrics": {"p95_inference_time_ms": 412.6},
        },
        {"model_id": "openai/whisper-base", "status": "not_loaded", "memory_usage_mb": 0.0},
        {
            "model_id": "openai/whisper-small",
            "status": "loading",
            "device": "cpu",
            "memory_usage_mb": 0.0,
            "inference_count": 0,
        },
    ],
    "mt_models": [],
}


def test_status_rows_list_what_is_not_idle_on_disk() -> None:
    assert status_rows(STATUS_BODY) == [
        ["openai/whisper-tiny.en", "loaded", "cpu", "127.2 MB", "2m 05s", "3", "413 ms"],
        ["openai/whisper-small", "loading", "cpu", "-", "-", "0", "-"],
    ]
    assert len(status_rows(STATUS_BODY, everything=True)) == 3


def test_the_status_table_renders_one_line_per_model() -> None:
    console = Console(file=io.StringIO(), width=200)
    console.print(render(STATUS_HEADERS, status_rows(STATUS_BODY)))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    lines = [line.split() for line in text.splitlines() if line.strip()]
    assert " ".join(lines[0]) == "MODEL STATUS DEVICE MEMORY IDLE FOR INFERENCES P95"
    assert lines[2] == [
        "openai/whisper-tiny.en",
        "loaded",
        "cpu",
        "127.2",
        "MB",
        "2m",
        "05s",
        "3",
        "413",
        "ms",
    ]


def test_worker_rows_say_when_a_drain_has_finished() -> None:
    body = {
        "workers": [
            {
                "worker_id": "cpu",
                "device": "cpu",
                "state": "draining",
                "drained": True,
                "pid": 42,
                "uptime_s": 3725.0,
                "restart_count": 1,
                "in_flight": 0,
                "models": ["a", "b"],
            },
            {"worker_id": "cuda-0", "device": "cuda:0", "state": "starting"},
        ]
    }
    assert worker_rows(body) == [
        ["cpu", "cpu", "draining (drained)", "42", "1h 02m", "1", "0", "a, b"],
        ["cuda-0", "cuda:0", "starting", "-", "-", "0", "0", "-"],
    ]


def test_catalog_rows_mark_the_default_and_where_each_model_is() -> None:
    asr = {
        "default_model": "openai/whisper-tiny.en",
        "models": [
            {"model_id": "openai/whisper-tiny.en", "size_mb": 76, "location": {"kind": "bundled"}},
            {
                "model_id": "openai/whisper-base",
                "size_mb": 148,
                "location": {"kind": "download_required"},
            },
        ],
    }
    mt = {"default_model": "x", "models": [{"model_id": "local/copy", "size_mb": 3}]}
    status = {"asr_models": [{"model_id": "openai/whisper-tiny.en", "status": "loaded"}]}
    assert catalog_rows(asr, mt, status) == [
        ["openai/whisper-tiny.en (default)", "asr", "76.0 MB", "bundled", "loaded"],
        ["openai/whisper-base", "asr", "148.0 MB", "download required", "-"],
        ["local/copy", "mt", "3.0 MB", "-", "-"],
    ]


def test_an_error_report_names_code_message_alternatives_and_suggestions() -> None:
    failure = failure_from(
        409,
        '{"error": {"code": "DOWNLOAD_REQUIRED", "message": "offline", "details": '
        '{"suggested_alternatives": ["a", "b"], "suggestions": ["hf download r"]}}}',
    )
    assert error_lines(failure) == [
        "error DOWNLOAD_REQUIRED: offline",
        "did you mean: a, b",
        "suggestions:",
        "  - hf download r",
    ]
    assert failure.status == 409


def test_an_answer_that_is_not_the_envelope_is_reported_as_it_came() -> None:
    failure = failure_from(502, "<html>Bad Gateway</html>")
    assert (failure.code, failure.message) == ("HTTP_502", "<html>Bad Gateway</html>")
    assert failure.body()["error"]["code"] == "HTTP_502"


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (27_100_000, "27.1 MB"),
        (3 * 10**12, "3000.0 GB"),
    ],
)
def test_human_bytes(count: int, text: str) -> None:
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0.4, "0s"), (59.9, "59s"), (61, "1m 01s"), (7260, "2h 01m"), (90000, "1d 01h")],
)
def test_human_duration(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


class _Frames:
    """Stands in for the event stream: these frames, then silence."""

    def __init__(self, *events: dict[str, Any]) -> None:
        self._frames = [json.dumps(e) for e in events]

    def recv(self, timeout: float | None = None) -> str:
        if not self._frames:
            raise TimeoutError
        return self._frames.pop(0)


def test_a_refusal_takes_its_suggestions_from_the_failed_event() -> None:
    refused = ServiceFailure("INSUFFICIENT_MEMORY", "no room", {"required_mb": 900})
    announced = _event(
        "model.load.failed",
        error_code="INSUFFICIENT_MEMORY",
        error_message="no room",
        suggestions=["Use CPU instead of GPU", "Unload idle models first"],
    )
    other = _event("model.load.progress", stage="resolving", progress=5.0)
    found = with_event_suggestions(refused, _Frames(other, announced), MODEL, LOAD, grace_s=1.0)
    assert found.suggestions == ["Use CPU instead of GPU", "Unload idle models first"]
    assert found.details == {"required_mb": 900}

    silent = ServiceFailure("MODEL_NOT_FOUND", "unknown")
    assert with_event_suggestions(silent, _Frames(), MODEL, LOAD, grace_s=1.0).suggestions == []


def test_the_live_bar_draws_stage_and_bytes_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    live = LiveProgress(console, f"load {MODEL}")
    for event in LOAD_EVENTS[:6]:
        view = view_of(event)
        assert view is not None
        live.show(view)
    live.close()
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"load {MODEL}" in text and "downloading" in text
    assert "150 B / 1.0 kB" in text  # the last bytes shown, beside the bar
