"""A live-captions client for tests: the protocol's messages over a real WebSocket
(websockets' sync client, as the suite's other WebSocket tests), audio sent from a thread
at a chosen pace while the test reads captions."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.audio import clip_path

SAMPLE_RATE = 16_000
BYTES_PER_SAMPLE = 2
Message = dict[str, Any]


def clip_pcm(*names: str, gap_s: float = 1.0) -> bytes:
    """The clips' 16 kHz s16le samples joined with `gap_s` of silence between them."""
    gap = b"\x00\x00" * int(SAMPLE_RATE * gap_s)
    parts = []
    for name in names:
        with wave.open(str(clip_path(name)), "rb") as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
            parts.append(wav.readframes(wav.getnframes()))
    return gap.join(parts) + gap


def pcm_seconds(pcm: bytes) -> float:
    return len(pcm) / BYTES_PER_SAMPLE / SAMPLE_RATE


@dataclass
class LiveSocket:
    ws: ClientConnection
    log: list[Message] = field(default_factory=list)
    # Acknowledge each numbered message as it is read, as a client does (else the server
    # stops at the window); off to see the window hold captions back.
    auto_ack: bool = True

    @staticmethod
    def open(port: int, sid: str, path: str = "/api/sessions/{sid}/stream") -> LiveSocket:
        url = f"ws://127.0.0.1:{port}{path.format(sid=sid)}"
        return LiveSocket(connect(url, open_timeout=30, max_size=None, legacy=True))

    def send(self, t: str, data: dict[str, Any] | None = None) -> None:
        self.ws.send(json.dumps({"v": 1, "t": t, "data": data or {}}))

    def hello(self, **data: Any) -> Message:
        """Send client.hello; the server.welcome (anything before it is kept in the log)."""
        self.send("client.hello", data)
        return self.next({"server.welcome"})

    def recv(self, timeout_s: float) -> Message:
        message: Message = json.loads(self.ws.recv(timeout=timeout_s))
        self.log.append(message)
        seq = message.get("seq")
        if self.auto_ack and seq and message["t"] != "server.welcome":
            with contextlib.suppress(ConnectionClosed):
                self.send("client.ack", {"ack_seq": seq})
        return message

    def next(self, types: set[str] | None = None, timeout_s: float = 120.0) -> Message:
        """The next message of one of `types` (any: None); the others are logged only."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no {sorted(types or [])} within {timeout_s} s: {self.tail()}"
                )
            message = self.recv(remaining)
            if types is None or message["t"] in types:
                return message

    def until(self, done: Callable[[Message], bool], timeout_s: float = 240.0) -> Message:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"not seen within {timeout_s} s: {self.tail()}")
            message = self.recv(remaining)
            if done(message):
                return message

    def read_to_close(self, timeout_s: float = 240.0) -> int:
        """Read (and log) everything until the server closes; its close code."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"the socket stayed open {timeout_s} s: {self.tail()}")
                self.recv(remaining)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else 1006
            return code

    def of(self, t: str) -> list[Message]:
        return [m for m in self.log if m["t"] == t]

    def numbered(self) -> list[Message]:
        return [m for m in self.log if m.get("seq") is not None and m["t"] != "server.welcome"]

    def tail(self, n: int = 6) -> str:
        return json.dumps(self.log[-n:])[:3000]

    def close(self, code: int = 1000) -> None:
        self.ws.close(code=code)


@dataclass
class AudioFeed:
    """Sends `pcm` in `chunk_ms` frames at `speed` times real time from a thread; then
    client.audio.end when `end`."""

    live: LiveSocket
    pcm: bytes
    speed: float = 3.0
    chunk_ms: int = 100
    end: bool = True
    stop_after_s: float | None = None  # send only this much audio
    sent_bytes: int = 0
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def start(self) -> AudioFeed:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def join(self, timeout_s: float = 120.0) -> None:
        assert self._thread is not None
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "the audio feed did not finish"
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        step = SAMPLE_RATE * BYTES_PER_SAMPLE * self.chunk_ms // 1000
        limit = len(self.pcm)
        if self.stop_after_s is not None:
            limit = min(limit, int(self.stop_after_s * SAMPLE_RATE) * BYTES_PER_SAMPLE)
        started = time.monotonic()
        try:
            for offset in range(0, limit, step):
                due = started + (offset / step) * self.chunk_ms / 1000 / self.speed
                time.sleep(max(0.0, due - time.monotonic()))
                frame = self.pcm[offset : min(offset + step, limit)]
                self.live.ws.send(frame)
                self.sent_bytes += len(frame)
            if self.end:
                self.live.send("client.audio.end")
        except BaseException as exc:  # reported by join()
            self.error = exc


def finals_text(messages: list[Message]) -> str:
    return " ".join(m["data"]["text"] for m in messages if m["t"] == "asr.final")


def wav_bytes(name: str) -> bytes:
    return Path(clip_path(name)).read_bytes()
