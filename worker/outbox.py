"""Lets executor threads send to the gateway without touching the I/O thread's socket.

pyzmq sockets are not thread-safe: threads push frames into an inproc pipe (one PUSH
socket, serialised by a lock) and the I/O thread forwards them on its DEALER socket.
"""

from __future__ import annotations

import threading

import zmq

from protocol.wire.messages import WorkerMessage, encode


class Outbox:
    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], address: str) -> None:
        self.address = address
        self._pull: zmq.Socket[bytes] = context.socket(zmq.PULL)
        self._pull.bind(address)
        self._push: zmq.Socket[bytes] = context.socket(zmq.PUSH)
        self._push.connect(address)
        self._lock = threading.Lock()

    @property
    def receiver(self) -> zmq.Socket[bytes]:
        """The end the I/O thread polls."""
        return self._pull

    def send(self, message: WorkerMessage, *payload: bytes) -> None:
        frames = [encode(message), *payload]
        with self._lock:
            self._push.send_multipart(frames)

    def close(self) -> None:
        self._push.close(linger=0)
        self._pull.close(linger=0)
