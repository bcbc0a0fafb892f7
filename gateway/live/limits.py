"""The limits of a live stream and what `server.welcome` tells the client about them.

The configurable ones are `LX_LIVE_*` settings (gateway.settings, their defaults defined
there once); the others are bounds of the gateway's memory that no client needs to tune.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings
from protocol.api.live import HeartbeatConfig, ResumeWindow, ServerLimits, WelcomeData

_DEFAULTS = Settings()


@dataclass(frozen=True)
class LiveLimits:
    heartbeat_interval_ms: int = _DEFAULTS.live_heartbeat_interval_ms
    heartbeat_timeout_ms: int = _DEFAULTS.live_heartbeat_timeout_ms
    # How long a session's messages are kept for a client that reconnects (and how long a
    # stream whose client went away waits for it before it is cancelled).
    resume_seconds: int = _DEFAULTS.live_resume_seconds
    # ... and how many at most (a caption every 0.4 s for 300 s is 750).
    replay_messages: int = 2_000
    # The largest window a client may ask for, and any frame's size.
    max_in_flight: int = _DEFAULTS.live_max_in_flight
    max_msg_bytes: int = _DEFAULTS.live_max_msg_bytes
    # Messages computed but held past the client's window before the stream fails with
    # QUEUE_FULL: a client that never acknowledges is not buffered for ever.
    max_held_messages: int = 1_000
    # Audio no final covers yet. A worker finals at least every 12 s of speech; more
    # than this means the client sends faster than the worker keeps up.
    max_backlog_seconds: float = float(_DEFAULTS.live_backlog_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveLimits:
        return cls(
            heartbeat_interval_ms=settings.live_heartbeat_interval_ms,
            heartbeat_timeout_ms=settings.live_heartbeat_timeout_ms,
            resume_seconds=settings.live_resume_seconds,
            max_in_flight=settings.live_max_in_flight,
            max_msg_bytes=settings.live_max_msg_bytes,
            max_backlog_seconds=float(settings.live_backlog_seconds),
        )

    def welcome(self, resume_token: str | None = None) -> WelcomeData:
        return WelcomeData(
            hb=HeartbeatConfig(
                interval_ms=self.heartbeat_interval_ms, timeout_ms=self.heartbeat_timeout_ms
            ),
            resume_window=ResumeWindow(seconds=self.resume_seconds, token=resume_token),
            limits=ServerLimits(max_in_flight=self.max_in_flight, max_msg_bytes=self.max_msg_bytes),
        )
