"""uvicorn's server, telling the gateway the moment a stop signal (SIGTERM, Ctrl-C) comes.

uvicorn stops accepting connections and waits for the ones in flight; the gateway bounds
that wait with LX_SHUTDOWN_TIMEOUT_MS by failing what is still in flight (503) once it
passes, then the lifespan stops the workers and removes the ipc folder.

Connections are bounded (connections.py: request head timeout, keep-alive timeout, a cap),
and the cap leaves descriptors for ZeroMQ and the workers (file_descriptors.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from gateway.http.connections import bounded_protocol
from gateway.http.file_descriptors import (
    ACCEPT_BURST,
    FD_RESERVE,
    KERNEL_BACKLOG,
    connection_cap,
    raise_descriptor_limit,
)
from gateway.settings import Settings

log = logging.getLogger(__name__)


class GatewayServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_stop_signal: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop_signal = on_stop_signal

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # asyncio took `backlog` as both the kernel's queue and its accepts per loop turn;
        # listen again for a long kernel queue, the accept burst stays ACCEPT_BURST.
        for server in getattr(self, "servers", []):
            for listening in server.sockets:
                with listening.dup() as again:
                    again.listen(KERNEL_BACKLOG)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)
        if first:
            # A signal handler interrupts the loop: hand the work to the loop itself.
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().call_soon_threadsafe(self._on_stop_signal)


def begin_shutdown(app: Starlette) -> None:
    services = getattr(app.state, "services", None)
    if services is not None:
        services.control.begin_shutdown()


def serve(app: Starlette, settings: Settings) -> None:
    descriptors = raise_descriptor_limit()
    max_connections = connection_cap(settings.max_connections, descriptors)
    log.info(
        "file descriptors: %d; up to %d client connections, %d kept for ZeroMQ and workers",
        descriptors,
        max_connections,
        FD_RESERVE,
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        # gateway.http.request_log writes the access lines (with request ids, never queries).
        access_log=False,
        backlog=ACCEPT_BURST,
        http=bounded_protocol(settings.request_head_timeout_s, max_connections),
        timeout_keep_alive=settings.keepalive_timeout_s,  # type: ignore[arg-type]  # a float works
        # A backstop only: the gateway itself ends what is in flight at the timeout.
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s) + 5,
    )
    GatewayServer(config, lambda: begin_shutdown(app)).run()
