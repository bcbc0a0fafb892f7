"""Supervision settings come from LX_* variables; a bad one names itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings, SettingsError
from gateway.workers.curve_keys import KeyFileError, allowed_public_keys, generate, load_key_pair


def test_supervision_variables() -> None:
    settings = Settings.from_env(
        {
            "LX_WORKER_HEARTBEAT_INTERVAL_MS": "100",
            "LX_WORKER_HEARTBEAT_TIMEOUT_MS": "1500",
            "LX_WORKER_RESTART_BACKOFF_MS": "50",
            "LX_WORKER_CRASH_LOOP_LIMIT": "3",
            "LX_WORKER_DRAIN_TIMEOUT_MS": "2000",
            "LX_SHUTDOWN_TIMEOUT_MS": "300",
            "LX_WORKER_DEVICES": "cpu,cpu:1",
        }
    )
    assert settings.heartbeat_interval_s == 0.1
    assert settings.heartbeat_timeout_s == 1.5
    assert settings.restart_backoff_initial_s == 0.05
    assert settings.crash_loop_limit == 3
    assert settings.drain_timeout_s == 2.0
    assert settings.shutdown_timeout_s == 0.3
    assert settings.devices == ("cpu", "cpu:1")
    assert settings.worker_listen is None


def test_listening_for_remote_workers_needs_both_key_settings() -> None:
    with pytest.raises(SettingsError, match="LX_CURVE_SERVER_SECRET_KEY_FILE"):
        Settings.from_env({"LX_WORKER_LISTEN": "tcp://0.0.0.0:5555"})
    with pytest.raises(SettingsError, match="LX_WORKER_LISTEN"):
        Settings.from_env({"LX_WORKER_LISTEN": "ipc:///tmp/x"})
    settings = Settings.from_env(
        {
            "LX_WORKER_LISTEN": "tcp://127.0.0.1:5555",
            "LX_CURVE_SERVER_SECRET_KEY_FILE": "/keys/gateway.key_secret",
            "LX_CURVE_ALLOWED_KEYS_DIR": "/keys/workers",
        }
    )
    assert settings.worker_listen == "tcp://127.0.0.1:5555"


def test_generated_keys_load_and_the_allow_list_reads_public_keys(tmp_path: Path) -> None:
    folder = tmp_path
    public_file, secret_file = generate(folder / "workers", "host-a")
    public, secret = load_key_pair(secret_file)
    assert len(public) == len(secret) == 40
    assert allowed_public_keys(folder / "workers") == {public}
    assert secret_file.stat().st_mode & 0o077 == 0
    with pytest.raises(KeyFileError, match="no secret"):
        load_key_pair(public_file)


def test_failed_retry_and_connection_bounds_read_their_variables() -> None:
    defaults = Settings.from_env({})
    assert (defaults.failed_retry_s, defaults.failed_retry_max_s) == (60.0, 3600.0)
    assert (defaults.request_head_timeout_s, defaults.keepalive_timeout_s) == (5.0, 5.0)
    assert defaults.max_connections == 1000
    settings = Settings.from_env(
        {
            "LX_WORKER_FAILED_RETRY_MS": "0",
            "LX_WORKER_FAILED_RETRY_MAX_MS": "9000",
            "LX_REQUEST_HEAD_TIMEOUT_MS": "1500",
            "LX_KEEPALIVE_TIMEOUT_MS": "700",
            "LX_MAX_CONNECTIONS": "40",
        }
    )
    assert (settings.failed_retry_s, settings.failed_retry_max_s) == (0.0, 9.0)
    assert (settings.request_head_timeout_s, settings.keepalive_timeout_s) == (1.5, 0.7)
    assert settings.max_connections == 40
    with pytest.raises(SettingsError, match="LX_REQUEST_HEAD_TIMEOUT_MS"):
        Settings.from_env({"LX_REQUEST_HEAD_TIMEOUT_MS": "10"})
    with pytest.raises(SettingsError, match="LX_MAX_CONNECTIONS"):
        Settings.from_env({"LX_MAX_CONNECTIONS": "0"})
