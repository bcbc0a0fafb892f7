"""uvicorn's server, telling the gateway the moment a stop signal (SIGTERM, Ctrl-C) comes.

uvicorn stops accepting connections and waits for the ones in flight; the gateway bounds
that wait with LX_SHUTDOWN_TIMEOUT_MS by failing what is still in flight (503) once it
passes, then the lifespan stops the workers and removes the ipc folder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import FrameType

import uvicorn
from starlette.applications import Starlette


class GatewayServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_stop_signal: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop_signal = on_stop_signal

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


def serve(app: Starlette, host: str, port: int, shutdown_timeout_s: float) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        # gateway.http.request_log writes the access lines (with request ids, never queries).
        access_log=False,
        # A backstop only: the gateway itself ends what is in flight at the timeout.
        timeout_graceful_shutdown=int(shutdown_timeout_s) + 5,
    )
    GatewayServer(config, lambda: begin_shutdown(app)).run()
