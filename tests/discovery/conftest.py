"""The model folders the discovery tests look through, built once per module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def models(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_whisper_model: Path,
    tiny_whisper_multilingual_model: Path,
    nllb_copy_model: Path,
    m2m_copy_model: Path,
) -> Path:
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(tiny_whisper_model, root / "my-english-whisper")
    shutil.copytree(tiny_whisper_multilingual_model, root / "my-whisper")
    shutil.copytree(nllb_copy_model, root / "my-nllb")
    shutil.copytree(m2m_copy_model, root / "acme" / "my-m2m")  # the <owner>/<name> layout
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("not a model")
    return root
