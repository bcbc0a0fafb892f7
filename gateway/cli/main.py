"""The `loquilex-models` command: the typer app and its entry point (`run`)."""

from __future__ import annotations

import typer

from gateway.cli import local, models, workers

app = typer.Typer(
    name="loquilex-models",
    help="Operate a LoquiLex Models service: serve it, load and pull models, watch workers.\n\n"
    "Exit codes: 0 ok, 1 the service answered with an error, 2 bad usage, 3 the gateway "
    "cannot be reached.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(local.serve)
app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(local.worker)
app.add_typer(models.app, name="models")
app.add_typer(workers.app, name="workers")
app.add_typer(local.keys, name="keys")


def run() -> None:
    """The console script."""
    app()


if __name__ == "__main__":
    run()
