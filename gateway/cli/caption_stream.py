"""Stream a WAV file to a session's caption socket as a microphone would, and collect what
comes back with its arrival time.

One thread sends: `client.hello` (pcm_s16le at the file's rate), then the audio in frames
of `chunk_ms`, each at its instant on the audio clock divided by `speed` (1.0: real time),
a `client.hb` at the interval the welcome asked for, and `client.audio.end` after the last
frame. Another thread receives: every numbered message is acknowledged (cumulatively) and
handed to `on_message` with its arrival time on the same clock. The stream is over at
`status {stage: "ended"}`, when the server closes the socket, or after `end_timeout_s`
without it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from gateway.cli.client import ServiceFailure, Unreachable, failure_from
from gateway.cli.wav_audio import WavAudio

# What the protocol's close codes mean to a user.
_CLOSE_REASONS = {
    4401: ("UNAUTHORIZED", "the gateway wants a token (--token or LX_API_TOKEN)"),
    4404: ("SESSION_NOT_FOUND", "no such session"),
}


@dataclass(frozen=True)
class Received:
    at_s: float  # seconds since the first audio frame was sent
    message: dict[str, Any]


@dataclass
class StreamOutcome:
    received: list[Received] = field(default_factory=list)
    ended: bool = False  # the server said `status ended`
    close_code: int | None = None
    close_reason: str = ""
    audio_s: float = 0.0  # audio sent, in seconds
    welcome: dict[str, Any] = field(default_factory=dict)

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.message.get("t") == kind]


def stream_url(base_url: str, sid: str) -> str:
    scheme, rest = base_url.rstrip("/").split("://", 1)
    return ("wss" if scheme == "https" else "ws") + "://" + rest + f"/api/sessions/{sid}/stream"


class CaptionStream:
    def __init__(
        self,
        url: str,
        audio: WavAudio,
        *,
        token: str | None = None,
        speed: float = 1.0,
        chunk_ms: int = 100,
        on_message: Callable[[Received], None] | None = None,
        end_timeout_s: float = 60.0,
        max_in_flight: int = 64,
    ) -> None:
        self._url = url
        self._audio = audio
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._speed = speed
        self._chunk_ms = chunk_ms
        self._on_message = on_message or (lambda _received: None)
        self._end_timeout_s = end_timeout_s
        self._max_in_flight = max_in_flight
        self._outcome = StreamOutcome()
        self._started = 0.0
        self._done = threading.Event()

    def run(self) -> StreamOutcome:
        """Raises Unreachable when nothing answers, ServiceFailure when the gateway refuses
        the stream before its welcome."""
        with self._connect() as socket:
            self._outcome.welcome = self._greet(socket)
            hb_s = self._outcome.welcome.get("data", {}).get("hb", {}).get("interval_ms", 10_000)
            self._started = time.monotonic()
            receiver = threading.Thread(target=self._receive, args=(socket,), daemon=True)
            receiver.start()
            self._send_audio(socket, hb_s / 1000)
            self._done.wait(self._end_timeout_s)
            if not self._done.is_set():
                socket.close()
            receiver.join(5)
        return self._outcome

    def _connect(self) -> ClientConnection:
        try:
            return connect(
                self._url, additional_headers=self._headers, open_timeout=10, max_size=None
            )
        except InvalidStatus as exc:
            body = (exc.response.body or b"").decode(errors="replace")
            raise failure_from(exc.response.status_code, body) from exc
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise Unreachable(self._url, f"{type(exc).__name__}: {exc}") from exc

    def _greet(self, socket: ClientConnection) -> dict[str, Any]:
        hello = {
            "t": "client.hello",
            "data": {
                "agent": "loquilex-models captions",
                "encoding": "pcm_s16le",
                "sample_rate": self._audio.sample_rate,
                "channels": 1,
                "max_in_flight": self._max_in_flight,
            },
        }
        # A socket the server refuses at once (no such session) may be closed before the
        # hello leaves; its error frame is still read below.
        with contextlib.suppress(ConnectionClosed):
            socket.send(json.dumps(hello))
        try:
            answer: dict[str, Any] = json.loads(socket.recv(timeout=30))
        except ConnectionClosed as closed:
            raise _closed_failure(closed.rcvd.code if closed.rcvd else None, closed) from closed
        except TimeoutError as exc:
            raise ServiceFailure("TIMEOUT", "the gateway sent no welcome in 30 s") from exc
        if answer.get("t") == "server.error":
            data = answer.get("data") or {}
            raise ServiceFailure(str(data.get("code", "ERROR")), str(data.get("detail", "")))
        if answer.get("t") != "server.welcome":
            raise ServiceFailure("PROTOCOL", f"expected server.welcome, got {answer.get('t')!r}")
        return answer

    def _send_audio(self, socket: ClientConnection, hb_s: float) -> None:
        chunk_s = self._chunk_ms / 1000
        next_hb = time.monotonic() + hb_s
        try:
            for index, frame in enumerate(self._audio.chunks(self._chunk_ms)):
                if self._done.is_set():
                    return
                # A frame leaves once the audio it holds has been "spoken".
                due = self._started + (index + 1) * chunk_s / self._speed
                time.sleep(max(0.0, due - time.monotonic()))
                socket.send(frame)
                self._outcome.audio_s += len(frame) / 2 / self._audio.sample_rate
                if time.monotonic() >= next_hb:
                    socket.send(json.dumps({"t": "client.hb", "data": {}}))
                    next_hb = time.monotonic() + hb_s
            socket.send(json.dumps({"t": "client.audio.end", "data": {}}))
            while not self._done.wait(hb_s):
                socket.send(json.dumps({"t": "client.hb", "data": {}}))
        except ConnectionClosed:
            return

    def _receive(self, socket: ClientConnection) -> None:
        try:
            for frame in socket:
                message: dict[str, Any] = json.loads(frame)
                received = Received(time.monotonic() - self._started, message)
                self._outcome.received.append(received)
                self._on_message(received)
                data = message.get("data") or {}
                if message.get("t") == "status" and data.get("stage") == "ended":
                    self._outcome.ended = True
                    break
                seq = message.get("seq")
                if isinstance(seq, int) and seq > 0:
                    # The server may close right after its last message: then no ack is owed.
                    with contextlib.suppress(ConnectionClosed):
                        socket.send(json.dumps({"t": "client.ack", "data": {"ack_seq": seq}}))
        except ConnectionClosed:
            pass
        finally:
            self._outcome.close_code = socket.close_code
            self._outcome.close_reason = socket.close_reason or ""
            self._done.set()


def _closed_failure(code: int | None, closed: ConnectionClosed) -> ServiceFailure:
    known, what = _CLOSE_REASONS.get(
        code or 0, ("CLOSED", f"the gateway closed the socket ({code})")
    )
    reason = closed.rcvd.reason if closed.rcvd else ""
    return ServiceFailure(known, f"{what}{': ' + reason if reason else ''}")
