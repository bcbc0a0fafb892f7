"""What a device can run, as CTranslate2 reports it."""

from __future__ import annotations


def supported_compute_types(device: str) -> list[str]:
    import ctranslate2

    kind, _, index = device.partition(":")
    try:
        types = ctranslate2.get_supported_compute_types(kind, int(index or 0))
    except (RuntimeError, ValueError):  # no such device (no CUDA here)
        return []
    return sorted(str(t) for t in types)
