"""`loquilex-models models ...`: the catalog, loads with a live bar, downloads ahead,
unloads, and what is loaded (`status`, like `ollama ps`)."""

from __future__ import annotations

import difflib
from enum import StrEnum
from typing import Annotated, Any

import typer

from gateway.cli.client import GatewayClient, ServiceFailure, new_session_id
from gateway.cli.follow import (
    DOWNLOAD,
    LOAD,
    Family,
    follow,
    load_check,
    with_event_suggestions,
)
from gateway.cli.output import Output
from gateway.cli.progress import progress_for
from gateway.cli.remote import DEFAULT_URL, Json, Token, Url, connected
from gateway.cli.tables import (
    CATALOG_HEADERS,
    STATUS_HEADERS,
    catalog_rows,
    human_bytes,
    human_mb,
    render,
    status_rows,
)

app = typer.Typer(help="Models: list, show, pull, load, unload, status.", no_args_is_help=True)

ModelId = Annotated[str, typer.Argument(help="A model id, e.g. openai/whisper-tiny.en.")]


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"


def _path(model_id: str, action: str) -> str:
    return f"/api/models/{model_id}/{action}"


@app.command("list")
def list_models(url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False) -> None:
    """Every catalogued model, where it is on this machine, and its status."""
    with connected(url, token, as_json) as (client, out):
        asr, mt = client.get("/api/models/asr"), client.get("/api/models/mt")
        status = client.get("/api/models/status")
        rows = catalog_rows(asr, mt, status)
        out.result({"asr": asr, "mt": mt}, render(CATALOG_HEADERS, rows))


@app.command()
def show(
    model_id: ModelId, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """One model: its catalog entry, where it is, and its status."""
    with connected(url, token, as_json) as (client, out):
        info = _catalog_entry(client, model_id)
        status = _status_of(client, model_id)
        lines = [
            f"model       {model_id}",
            f"name        {info.get('display_name', model_id)}",
            f"size        {human_mb(info.get('size_mb'))}",
            f"memory      {human_mb(info.get('memory_requirement_mb'))} needed",
        ]
        location = info.get("location") or {}
        where = location.get("kind", "-").replace("_", " ")
        lines.append(
            f"location    {where}" + (f": {location['path']}" if location.get("path") else "")
        )
        if location.get("repo_id"):
            lines.append(f"repository  {location['repo_id']}")
        if status is not None:
            lines.append(
                f"status      {status['status']}"
                + (f" on {status['device']}" if status.get("device") else "")
            )
            if status.get("error_message"):
                lines.append(f"last error  {status['error_message']}")
        out.result({"info": info, "status": status}, "\n".join(lines))


@app.command()
def pull(
    model_id: ModelId, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """Download a model's files without loading it, with a live bar."""
    with connected(url, token, as_json) as (client, out):
        answer, result = _ask_and_follow(client, out, model_id, "download", None, DOWNLOAD)
        if result is None:  # already on disk
            where = f"({answer.get('location')}): {answer.get('path')}"
            out.result(answer, f"{model_id} is already on this machine {where}")
            return
        size = human_bytes(result.get("total_bytes") or 0)
        seconds = float(result.get("download_time_ms", 0.0)) / 1000
        out.result(
            {**answer, **result, "status": "downloaded"},
            f"downloaded {model_id}: {size} in {seconds:.1f} s -> {result.get('path')}",
        )


@app.command()
def load(
    model_id: ModelId,
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda, cuda:N or auto (the gateway's default).")
    ] = None,
    compute_type: Annotated[
        str | None, typer.Option(help="int8, float16, float32... (the worker's default).")
    ] = None,
    priority: Annotated[
        Priority, typer.Option(help="Order among loads waiting for a slot.")
    ] = Priority.normal,
    warm_up: Annotated[
        bool, typer.Option(help="Run one small inference before it is ready.")
    ] = True,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Load a model onto a worker, with a live bar (bytes while downloading, then stages)."""
    body: dict[str, Any] = {"priority": priority.value, "preload_cache": warm_up}
    compute = {k: v for k, v in (("device", device), ("compute_type", compute_type)) if v}
    if compute:
        body["compute_config"] = compute
    with connected(url, token, as_json) as (client, out):
        answer, result = _ask_and_follow(client, out, model_id, "load", body, LOAD)
        done = answer if result is None else {**answer, **result, "status": "loaded"}
        where = f"on {done.get('device') or '?'} (worker {done.get('worker_id') or '?'})"
        if result is None:
            out.result(done, f"{model_id} is already loaded {where}")
            return
        took = f"{float(result['load_time_ms']):.0f} ms, " if result.get("load_time_ms") else ""
        memory = human_mb(result.get("memory_usage_mb"))
        out.result(done, f"loaded {model_id} {where}: {took}{memory}")


@app.command()
def unload(
    model_id: ModelId, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """Unload a model (its in-flight work finishes first)."""
    with connected(url, token, as_json) as (client, out):
        _, answer = client.call("POST", _path(model_id, "unload"))
        out.result(answer, f"unloaded {model_id}: {human_mb(answer.get('memory_freed_mb'))} freed")


@app.command()
def status(
    everything: Annotated[
        bool, typer.Option("--all", help="Also models that are not loaded.")
    ] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """What is loaded: model, device, memory, idle for, inferences, p95 (like `ollama ps`)."""
    with connected(url, token, as_json) as (client, out):
        body = client.get("/api/models/status")
        rows = status_rows(body, everything)
        out.result(body, render(STATUS_HEADERS, rows) if rows else "no model is loaded")


def _ask_and_follow(
    client: GatewayClient,
    out: Output,
    model_id: str,
    action: str,
    body: dict[str, Any] | None,
    family: Family,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Subscribe, ask, then follow: (the answer, the completed event's data), or
    (the answer, None) when it was done at once (200)."""
    sid = new_session_id()
    with client.events(sid) as events:
        try:
            code, answer = client.call(
                "POST", _path(model_id, action), body=body, params={"session_id": sid}
            )
        except ServiceFailure as failure:
            raise with_event_suggestions(failure, events, model_id, family) from None
        if code == 200:
            return answer, None
        show = None if out.as_json else progress_for(out.err, f"{family.what} {model_id}")
        check = load_check(client.get, model_id) if family is LOAD else None
        try:
            result = follow(events, model_id, family, show.show if show else _ignore, check)
        except KeyboardInterrupt:
            out.err.print(
                f"stopped following; the {family.what} goes on in the gateway", markup=False
            )
            raise typer.Exit(130) from None
        finally:
            if show is not None:
                show.close()
        return answer, result


def _ignore(_: object) -> None:
    pass


def _catalog_entry(client: GatewayClient, model_id: str) -> dict[str, Any]:
    models = [*client.get("/api/models/asr")["models"], *client.get("/api/models/mt")["models"]]
    for info in models:
        if info["model_id"] == model_id:
            found: dict[str, Any] = info
            return found
    ids = [m["model_id"] for m in models]
    raise ServiceFailure(
        "MODEL_NOT_FOUND",
        f"Model {model_id!r} is not in the registry.",
        {
            "model_id": model_id,
            "suggested_alternatives": difflib.get_close_matches(model_id, ids, 3, 0.5),
        },
    )


def _status_of(client: GatewayClient, model_id: str) -> dict[str, Any] | None:
    body = client.get("/api/models/status")
    for status in [*body.get("asr_models", []), *body.get("mt_models", [])]:
        if status["model_id"] == model_id:
            found: dict[str, Any] = status
            return found
    return None
