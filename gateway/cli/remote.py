"""What every remote command shares: where the gateway is, the token, --json, and one
place that turns failures into their report and exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from gateway.cli.client import DEFAULT_URL, GatewayClient, ServiceFailure, Unreachable
from gateway.cli.output import EXIT_SERVICE_ERROR, EXIT_UNREACHABLE, Output

Url = Annotated[
    str, typer.Option("--url", envvar="LX_URL", help="The gateway's base URL.", show_envvar=True)
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="LX_API_TOKEN",
        help="Bearer token, when the gateway requires one.",
        show_envvar=True,
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON document on stdout, for scripts.")]

__all__ = ["DEFAULT_URL", "Json", "Token", "Url", "connected"]


@contextmanager
def connected(url: str, token: str | None, as_json: bool) -> Iterator[tuple[GatewayClient, Output]]:
    """A client and the output; a service error exits 1, an unreachable gateway 3."""
    output = Output(as_json)
    try:
        with GatewayClient(url, token) as client:
            yield client, output
    except ServiceFailure as failure:
        output.failure(failure)
        raise typer.Exit(EXIT_SERVICE_ERROR) from None
    except Unreachable as problem:
        output.unreachable(problem)
        raise typer.Exit(EXIT_UNREACHABLE) from None
