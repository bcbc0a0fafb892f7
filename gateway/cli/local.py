"""The commands that run this machine's own code: the gateway, a worker, key files.

`serve` and `worker` replace this process with `python -m gateway` / `python -m worker`,
exactly what `make run` and a worker unit run (signals reach them directly), so the CLI
never imports the app or the worker; `keys generate` is gateway/workers/curve_keys.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.output import Output


def _become(module: str, args: list[str], settings: dict[str, str] | None = None) -> None:
    """Replace this process with `python -m module args`, `settings` added to its
    environment (the LX_* variables it reads itself)."""
    argv = [sys.executable, "-m", module, *args]
    os.execve(sys.executable, argv, {**os.environ, **(settings or {})})


def serve(
    host: Annotated[
        str | None, typer.Option(help="Listen address (LX_HOST; default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (LX_PORT; default 8000).", min=1, max=65535)
    ] = None,
) -> None:
    """Run the gateway with one worker per device, as `make run` does (LX_* settings)."""
    chosen = {"LX_HOST": host, "LX_PORT": None if port is None else str(port)}
    _become("gateway", [], {name: value for name, value in chosen.items() if value is not None})


def worker(ctx: typer.Context) -> None:
    """Run a worker, as `python -m worker` does; its flags pass through (try --help)."""
    _become("worker", list(ctx.args))


keys = typer.Typer(help="CurveZMQ key files for remote workers.", no_args_is_help=True)


@keys.command()
def generate(
    directory: Annotated[Path, typer.Argument(help="Folder to write the key files into.")],
    name: Annotated[str, typer.Argument(help="Base name: gateway, or the worker's host.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Write NAME.key (public, copy it anywhere) and NAME.key_secret (keep it private)."""
    from gateway.workers.curve_keys import generate as write_pair

    public, secret = write_pair(directory, name)
    Output(as_json).result(
        {"public_key_file": str(public), "secret_key_file": str(secret)},
        f"public key: {public}\nsecret key: {secret}",
    )
