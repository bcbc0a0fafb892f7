"""What a command prints: human text by default, one JSON document with --json; errors on
stderr as code, message and suggestions; and the exit codes they mean."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console, RenderableType

from gateway.cli.client import ServiceFailure, Unreachable

EXIT_OK = 0
EXIT_SERVICE_ERROR = 1
EXIT_USAGE = 2  # what typer (click) itself answers to bad usage
EXIT_UNREACHABLE = 3

# Wide enough for model ids when the output is not a terminal (a pipe, a log, a test).
_PIPE_WIDTH = 200


def error_lines(failure: ServiceFailure) -> list[str]:
    """The code and message, the alternatives the gateway named, then its suggestions."""
    lines = [f"error {failure.code}: {failure.message}"]
    alternatives = failure.details.get("suggested_alternatives") or []
    if alternatives:
        lines.append("did you mean: " + ", ".join(str(a) for a in alternatives))
    suggestions = failure.suggestions or [str(s) for s in failure.details.get("suggestions", [])]
    if suggestions:
        lines.append("suggestions:")
        lines += [f"  - {tip}" for tip in suggestions]
    return lines


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.out = _console(sys.stdout)
        self.err = _console(sys.stderr)

    def result(self, data: Any, human: RenderableType | str | None = None) -> None:
        """--json: `data` as JSON on stdout; else the human rendering (or nothing)."""
        if self.as_json:
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
        elif isinstance(human, str):
            self.out.print(human, markup=False, highlight=False, soft_wrap=True)
        elif human is not None:
            self.out.print(human)

    def failure(self, failure: ServiceFailure) -> None:
        if self.as_json:
            sys.stdout.write(json.dumps(failure.body(), indent=2) + "\n")
            return
        for line in error_lines(failure):
            self.err.print(
                line,
                markup=False,
                highlight=False,
                soft_wrap=True,
                style="red" if line.startswith("error") else None,
            )

    def unreachable(self, problem: Unreachable) -> None:
        message = f"cannot reach the gateway at {problem.url}: {problem.cause}"
        if self.as_json:
            body = {
                "error": {
                    "code": "UNREACHABLE",
                    "message": message,
                    "details": {"url": problem.url},
                }
            }
            sys.stdout.write(json.dumps(body, indent=2) + "\n")
            return
        self.err.print(message, markup=False, highlight=False, soft_wrap=True, style="red")
        self.err.print(
            "is it running? (loquilex-models serve; --url or LX_URL name another)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _console(stream: Any) -> Console:
    console = Console(file=stream)
    if not console.is_terminal:
        console = Console(file=stream, width=_PIPE_WIDTH)
    return console
