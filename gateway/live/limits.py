"""The limits of a live stream and what `server.welcome` tells the client about them.

TODO(lead): read these from LX_* in gateway.settings (one Settings object); the defaults
here are LoquiLex's where it has one (heartbeat 10 s / 30 s, resume 300 s, window 64,
messages up to 128 KiB).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.api.live import HeartbeatConfig, ResumeWindow, ServerLimits, WelcomeData


@dataclass(frozen=True)
class LiveLimits:
    heartbeat_interval_ms: int = 10_000
    heartbeat_timeout_ms: int = 30_000
    # How long a session's messages are kept for a client that reconnects.
    resume_seconds: int = 300
    # ... and how many at most (a caption every 0.4 s for 300 s is 750).
    replay_messages: int = 2_000
    # The largest window a client may ask for, and any frame's size.
    max_in_flight: int = 64
    max_msg_bytes: int = 131_072
    # Messages computed but held past the client's window before the stream fails with
    # QUEUE_FULL: a client that never acknowledges is not buffered for ever.
    max_held_messages: int = 1_000
    # Audio no final covers yet. A worker finals at least every 12 s of speech; more
    # than this means the client sends faster than the worker keeps up.
    max_backlog_seconds: float = 30.0

    def welcome(self, resume_token: str | None = None) -> WelcomeData:
        return WelcomeData(
            hb=HeartbeatConfig(
                interval_ms=self.heartbeat_interval_ms, timeout_ms=self.heartbeat_timeout_ms
            ),
            resume_window=ResumeWindow(seconds=self.resume_seconds, token=resume_token),
            limits=ServerLimits(max_in_flight=self.max_in_flight, max_msg_bytes=self.max_msg_bytes),
        )
