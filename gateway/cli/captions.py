"""`loquilex-models captions FILE.wav`: live captions of a WAV file, streamed at the pace of
speech (the demo client of the caption socket, and a way to try a session's config)."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.caption_stream import CaptionStream, Received, StreamOutcome, stream_url
from gateway.cli.caption_view import CaptionView, Shown
from gateway.cli.client import GatewayClient, ServiceFailure
from gateway.cli.output import EXIT_SERVICE_ERROR, EXIT_USAGE
from gateway.cli.remote import DEFAULT_URL, Json, Token, Url, connected
from gateway.cli.wav_audio import UnsupportedWav, WavAudio, read_wav

_CLEAR_LINE = "\r\x1b[2K"


def captions(
    file: Annotated[Path, typer.Argument(help="A 16-bit PCM WAV file (8-48 kHz, mono or stereo).")],
    sid: Annotated[
        str | None,
        typer.Option("--sid", help="Stream into this session (its config decides the models)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="ASR model of the new session.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Spoken language of the new session.")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="Translate finals into this language (e.g. fra_Latn)."),
    ] = None,
    mt_model: Annotated[
        str | None, typer.Option("--mt-model", help="Translation model of the new session.")
    ] = None,
    speed: Annotated[
        float,
        typer.Option("--speed", min=0.1, max=100.0, help="Pace of the audio; 1.0 is real time."),
    ] = 1.0,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Real-time pace (the default; overrides --speed).")
    ] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Stream FILE as a live speaker would and show its captions as they come.

    Without --sid, a session is made for the stream and removed afterwards.

    A terminal shows partial captions in place; a pipe gets finals and translations only."""
    try:
        audio = read_wav(file)
    except (UnsupportedWav, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    with connected(url, token, as_json) as (client, _output):
        own = sid is None
        session = sid or _new_session(client, model, language, target, mt_model)
        if own and not as_json:
            typer.echo(f"# session {session} (removed after the stream)", err=True)
        try:
            outcome = _stream(url, session, audio, token, 1.0 if realtime else speed, as_json)
        finally:
            if own:
                _remove_session(client, session)
    if not outcome.ended:
        typer.echo(
            f"error: the stream did not end cleanly (socket closed {outcome.close_code}"
            + (f": {outcome.close_reason}" if outcome.close_reason else "")
            + ")",
            err=True,
        )
        raise typer.Exit(EXIT_SERVICE_ERROR)


def _stream(
    url: str, sid: str, audio: WavAudio, token: str | None, speed: float, as_json: bool
) -> StreamOutcome:
    tty = sys.stdout.isatty() and not as_json
    view = CaptionView(partials=tty)
    printer = _Printer(tty)

    def on_message(received: Received) -> None:
        if as_json:
            sys.stdout.write(json.dumps(received.message, ensure_ascii=False) + "\n")
            sys.stdout.flush()
            return
        for shown in view.show(received.message):
            printer.show(shown)

    stream = CaptionStream(
        stream_url(url, sid),
        audio,
        token=token,
        speed=speed,
        on_message=on_message,
        end_timeout_s=60.0 + audio.duration_s / speed,
    )
    outcome = stream.run()
    printer.finish()
    return outcome


class _Printer:
    def __init__(self, tty: bool) -> None:
        self._tty = tty
        self._partial_shown = False

    def show(self, shown: Shown) -> None:
        if shown.kind == "error":
            self._clear()
            sys.stderr.write(shown.text + "\n")
            sys.stderr.flush()
            return
        if shown.kind == "partial":
            sys.stdout.write(_CLEAR_LINE + shown.text)
            self._partial_shown = True
        else:
            self._clear()
            sys.stdout.write(shown.text + "\n")
        sys.stdout.flush()

    def finish(self) -> None:
        self._clear()
        sys.stdout.flush()

    def _clear(self) -> None:
        if self._tty and self._partial_shown:
            sys.stdout.write(_CLEAR_LINE)
            self._partial_shown = False


def _new_session(
    client: GatewayClient,
    model: str | None,
    language: str | None,
    target: str | None,
    mt_model: str | None,
) -> str:
    asr = {k: v for k, v in (("model_id", model), ("language", language)) if v}
    config: dict[str, object] = {}
    if asr:
        config["asr"] = asr
    mt = {k: v for k, v in (("model_id", mt_model), ("target_language", target)) if v}
    if mt:
        config["mt"] = mt
    _status, body = client.call("POST", "/api/sessions", body={"config": config or None})
    session_id: str = body["session_id"]
    return session_id


def _remove_session(client: GatewayClient, sid: str) -> None:
    # A 204 has no JSON body (ServiceFailure here), and a session gone already is fine.
    with contextlib.suppress(ServiceFailure):
        client.call("DELETE", f"/api/sessions/{sid}")
