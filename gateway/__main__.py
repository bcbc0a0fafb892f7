"""`python -m gateway`: serve the API on LX_HOST:LX_PORT with one worker per device."""

from __future__ import annotations

import os
import sys

from gateway.app import create_app
from gateway.http.server import serve
from gateway.settings import Settings, SettingsError
from protocol.log_lines import configure_logging


def main() -> None:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")
    configure_logging("gateway", os.environ.get("LX_LOG_LEVEL", "INFO"), settings.log_format)
    try:
        app = create_app(settings)
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")
    serve(app, settings)


if __name__ == "__main__":
    main()
