"""The live limits come from the LX_LIVE_* settings, and the welcome says them."""

from __future__ import annotations

import pytest

from gateway.live.limits import LiveLimits
from gateway.settings import Settings, SettingsError


def test_defaults_are_the_settings_defaults() -> None:
    assert LiveLimits() == LiveLimits.from_settings(Settings())


def test_settings_from_the_environment_reach_the_welcome() -> None:
    settings = Settings.from_env(
        {
            "LX_LIVE_HEARTBEAT_INTERVAL_MS": "2000",
            "LX_LIVE_HEARTBEAT_TIMEOUT_MS": "7000",
            "LX_LIVE_RESUME_SECONDS": "45",
            "LX_LIVE_MAX_IN_FLIGHT": "8",
            "LX_LIVE_MAX_MSG_BYTES": "4096",
            "LX_LIVE_BACKLOG_SECONDS": "12",
        }
    )
    limits = LiveLimits.from_settings(settings)
    assert limits.max_backlog_seconds == 12.0
    welcome = limits.welcome("tok")
    assert (welcome.hb.interval_ms, welcome.hb.timeout_ms) == (2000, 7000)
    assert (welcome.resume_window.seconds, welcome.resume_window.token) == (45, "tok")
    assert (welcome.limits.max_in_flight, welcome.limits.max_msg_bytes) == (8, 4096)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LX_LIVE_MAX_IN_FLIGHT", "0"),
        ("LX_LIVE_BACKLOG_SECONDS", "x"),
        ("LX_LIVE_MAX_MSG_BYTES", "1"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})
