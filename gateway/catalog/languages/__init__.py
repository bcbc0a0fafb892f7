"""Language codes: one mapping from any code form to the code each model family expects."""

from gateway.catalog.languages.codes import (
    REGISTRY,
    Architecture,
    Language,
    LanguageRegistry,
    direction_of_script,
    languages_for,
    resolve_language,
    to_model_code,
)

__all__ = [
    "REGISTRY",
    "Architecture",
    "Language",
    "LanguageRegistry",
    "direction_of_script",
    "languages_for",
    "resolve_language",
    "to_model_code",
]
