"""`python -m gateway`: serve the API on LX_HOST:LX_PORT with one worker per device."""

from __future__ import annotations

import logging
import os
import sys

from gateway.app import create_app
from gateway.http.server import serve
from gateway.settings import Settings, SettingsError


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LX_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s gateway %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except SettingsError as exc:
        sys.exit(f"configuration error: {exc}")
    serve(app, settings.host, settings.port, settings.shutdown_timeout_s)


if __name__ == "__main__":
    main()
