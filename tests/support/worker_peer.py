"""Drive a real `python -m worker` process over a ROUTER socket, as the gateway would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import zmq

from protocol.wire import messages as ipc


@dataclass
class Peer:
    socket: zmq.Socket[bytes]
    process: subprocess.Popen[bytes]
    identity: bytes = b""
    hello: ipc.Hello | None = None

    def recv(self, timeout_s: float = 30.0, skip_heartbeats: bool = True) -> ipc.WorkerMessage:
        """The next message (that is not a heartbeat, unless asked)."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0 or not self.socket.poll(remaining_ms):
                raise AssertionError("the worker did not answer in time")
            identity, frame, *_ = self.socket.recv_multipart()
            self.identity = identity
            message = ipc.decode_from_worker(frame)
            if not (skip_heartbeats and isinstance(message, ipc.Heartbeat)):
                return message

    def send(self, message: ipc.GatewayMessage, *payload: bytes) -> None:
        self.socket.send_multipart([self.identity, ipc.encode(message), *payload])

    def request(self, message: ipc.GatewayMessage, timeout_s: float = 30.0) -> ipc.WorkerMessage:
        """Send and wait for the final reply, skipping progress events."""
        self.send(message)
        while True:
            reply = self.recv(timeout_s)
            if not isinstance(reply, ipc.LoadProgress):
                return reply


@contextmanager
def running_worker(
    folder: Path,
    args: Sequence[str] = (),
    *,
    cpu_threads: int = 2,
    heartbeat_interval_s: float = 0.2,
) -> Iterator[Peer]:
    """A CPU worker connected to a fresh ROUTER, with extra command-line `args`; the Hello is
    already read."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    router = context.socket(zmq.ROUTER)
    endpoint = f"ipc://{folder}/w.sock"
    router.bind(endpoint)
    command = [sys.executable, "-m", "worker", "--device", "cpu", "--id", "cpu-test"]
    command += ["--connect", endpoint, "--parent-pid", str(os.getpid())]
    command += ["--cpu-threads", str(cpu_threads)]
    command += ["--heartbeat-interval", str(heartbeat_interval_s), *args]
    process = subprocess.Popen(command)
    try:
        peer = Peer(router, process)
        hello = peer.recv()
        assert isinstance(hello, ipc.Hello)
        peer.hello = hello
        yield peer
    finally:
        process.kill()
        process.wait()
        router.close(linger=0)
        context.term()
