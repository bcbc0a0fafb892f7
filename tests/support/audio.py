"""Where the committed speech fixtures live and what they say (see fixtures/audio/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

AUDIO_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "audio"
# The ~39 s file of ten sentences for benchmarks; every other WAV is a 2-4 s clip.
LONG_CLIP = "long_story.wav"


def load_references() -> dict[str, str]:
    """File name -> reference text, for every WAV fixture."""
    raw = json.loads((AUDIO_DIR / "references.json").read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in raw.items()
    ):
        raise ValueError("references.json must map file names to reference text")
    return dict(raw)


def short_clips() -> list[str]:
    """The short clips, sorted by name."""
    return sorted(name for name in load_references() if name != LONG_CLIP)


def clip_path(name: str) -> Path:
    return AUDIO_DIR / name
