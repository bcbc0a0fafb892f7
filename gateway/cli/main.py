"""The `loquilex-models` command: the typer app and its entry point (`run`)."""

from __future__ import annotations

import os

import typer

from gateway.cli import captions, local, models, workers

app = typer.Typer(
    name="loquilex-models",
    help="Operate a LoquiLex Models service: serve it, load and pull models, watch workers.\n\n"
    "Exit codes: 0 ok, 1 the service answered with an error, 2 bad usage, 3 the gateway "
    "cannot be reached.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _everywhere(
    url: str | None = typer.Option(
        None, "--url", help="The gateway's base URL, for every command (or LX_URL)."
    ),
    token: str | None = typer.Option(
        None, "--token", help="The API token, for every command (or LX_API_TOKEN)."
    ),
) -> None:
    # Given before the command (`loquilex-models --url U models status`), they become the
    # environment every command's own --url/--token falls back to; after it, they win.
    if url:
        os.environ["LX_URL"] = url
    if token:
        os.environ["LX_API_TOKEN"] = token


app.command()(local.serve)
app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(local.worker)
app.command()(captions.captions)
app.add_typer(models.app, name="models")
app.add_typer(workers.app, name="workers")
app.add_typer(local.keys, name="keys")


def run() -> None:
    """The console script."""
    app()


if __name__ == "__main__":
    run()
