"""`loquilex-models workers ...`: list the workers, drain one and resume it, restart one."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from gateway.cli.remote import DEFAULT_URL, Json, Token, Url, connected
from gateway.cli.tables import WORKER_HEADERS, render, worker_rows

app = typer.Typer(help="Workers: list, drain, resume, restart.", no_args_is_help=True)

WorkerId = Annotated[str, typer.Argument(help="A worker id (GET /api/workers), e.g. cpu.")]


def _line(worker: dict[str, Any]) -> str:
    state = worker["state"] + (" (drained)" if worker.get("drained") else "")
    return f"worker {worker['worker_id']} ({worker['device']}): {state}"


@app.command("list")
def list_workers(url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False) -> None:
    """Every worker: device, state, pid, uptime, restarts, work in flight, models."""
    with connected(url, token, as_json) as (client, out):
        body = client.get("/api/workers")
        out.result(body, render(WORKER_HEADERS, worker_rows(body)))


@app.command()
def drain(
    worker_id: WorkerId,
    wait: Annotated[bool, typer.Option(help="Return once nothing is in flight.")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Stop sending the worker new work; what it has finishes (`resume` ends the drain)."""
    with connected(url, token, as_json) as (client, out):
        _, worker = client.call("POST", f"/api/workers/{worker_id}/drain")
        while wait and worker["state"] == "draining" and not worker.get("drained"):
            time.sleep(0.2)
            worker = client.get(f"/api/workers/{worker_id}")
        out.result(worker, _line(worker))


@app.command()
def resume(
    worker_id: WorkerId, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """End a drain: the worker takes new work again."""
    with connected(url, token, as_json) as (client, out):
        _, worker = client.call("POST", f"/api/workers/{worker_id}/resume")
        out.result(worker, _line(worker))


@app.command()
def restart(
    worker_id: WorkerId,
    force: Annotated[bool, typer.Option(help="Do not wait for work in flight (it fails).")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Restart a worker (after a drain unless --force); its models are loaded again."""
    with connected(url, token, as_json) as (client, out):
        params = {"force": "true"} if force else None
        _, worker = client.call("POST", f"/api/workers/{worker_id}/restart", params=params)
        out.result(worker, _line(worker) + " (restart under way)")
