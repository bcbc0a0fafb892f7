"""Write a hand-built CTranslate2 model spec to disk through ctranslate2's own converter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ctranslate2


class SpecConverter(ctranslate2.converters.Converter):  # type: ignore[misc]
    """A converter whose "source model" is a function returning a filled spec.

    Going through `Converter.convert` (rather than calling `spec.save` directly) gives the same
    validation, quantization and file layout as a real conversion.
    """

    def __init__(self, make_spec: Callable[[], Any]) -> None:
        self._make_spec = make_spec

    def _load(self) -> Any:
        return self._make_spec()


def convert_spec(make_spec: Callable[[], Any], out_dir: Path, quantization: str | None) -> Path:
    """Validate, quantize and save the spec to `out_dir` (which is replaced if it exists)."""
    SpecConverter(make_spec).convert(str(out_dir), quantization=quantization, force=True)
    return out_dir
