"""How a caller asks running model work to stop early: the engine checks a flag between
safe points (faster-whisper: between segments) and raises `Stopped`."""

from __future__ import annotations

from collections.abc import Callable

# True once the work should stop; engines call it between steps, never inside native code.
StopCheck = Callable[[], bool]


class Stopped(Exception):
    """The work stopped because its caller asked it to (its request was cancelled)."""
