"""Which language a text is in: py3langid, whose model ships inside its PyPI package."""

from __future__ import annotations

import threading
from typing import Any

from protocol.wire.messages import DetectedLanguage

_lock = threading.Lock()
_identifier: Any = None


def _get() -> Any:
    # Loaded on first use (~0.2 s): workers that never detect never pay for it.
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def detect(texts: list[str], candidates: list[str] | None = None) -> list[DetectedLanguage]:
    identifier = _get()
    known = set(identifier.labels)
    allowed = sorted(known & set(candidates)) if candidates else None
    found = []
    with _lock:  # the identifier's language restriction is shared state
        identifier.set_languages(allowed or None)
        try:
            for text in texts:
                code, probability = identifier.classify(text)
                found.append(DetectedLanguage(code=str(code), probability=float(probability)))
        finally:
            identifier.set_languages(None)
    return found
