"""The service's one language-code mapping: ISO 639, BCP-47 or FLORES-200 in, one Language out.

Data lives in the JSON files beside this module (flores200.json, extra_languages.json,
m2m100.json, whisper.json); they are read and validated once, at import.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Literal, TypeAlias, TypeVar

import msgspec

from protocol.api.catalog import LanguageInfo, LanguageVariant, Level, TextDirection
from protocol.errors import ErrorCode, ServiceError

Architecture: TypeAlias = Literal["nllb", "m2m", "whisper"]
_V = TypeVar("_V")

# ISO 15924 scripts written right to left (FLORES-200 itself only uses Arab and Hebr).
RTL_SCRIPTS = frozenset(
    {"Adlm", "Arab", "Aran", "Hebr", "Mand", "Mend", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi"}
)

# Bitext thresholds from the NLLB paper: >= 1M pairs is "high-resource"; under 100K pairs it
# speaks of "very low-resource" languages.
HIGH_RESOURCE_BITEXT = 1_000_000
VERY_LOW_RESOURCE_BITEXT = 100_000


def direction_of_script(script_code: str) -> TextDirection:
    return "rtl" if script_code in RTL_SCRIPTS else "ltr"


class Language(msgspec.Struct, kw_only=True, frozen=True):
    """One language variety (a language in one script) and its code in every model family."""

    key: str  # FLORES-200 code, or ISO 639-3 for the few languages outside FLORES-200
    flores: str | None
    m2m: str | None
    whisper: str | None
    iso639_1: str | None
    iso639_3: str
    tag: str  # BCP-47 tag the API shows: "fr", "zh-Hant", "acm"
    name: str
    native_name: str
    script: str
    script_code: str
    direction: TextDirection
    resource_level: Level
    bitext_count: int | None
    aliases: tuple[str, ...] = ()
    variants: tuple[LanguageVariant, ...] = ()

    @property
    def quality_tier(self) -> Level:
        """Expected translation quality, from the training data NLLB-200 had for the language.

        high: >= 1M public bitext pairs (NLLB "high-resource"); medium: 100K-1M pairs;
        low: under 100K pairs (NLLB "very low-resource") or no count at all.
        """
        count = self.bitext_count or 0
        if count >= HIGH_RESOURCE_BITEXT:
            return "high"
        return "medium" if count >= VERY_LOW_RESOURCE_BITEXT else "low"

    def info(self) -> LanguageInfo:
        """The contract's LanguageInfo for this language."""
        return LanguageInfo(
            code=self.tag,
            name=self.name,
            native_name=self.native_name,
            script=self.script,
            direction=self.direction,
            quality_tier=self.quality_tier,
            resource_level=self.resource_level,
            variants=list(self.variants) or None,
        )


# --- The JSON files ------------------------------------------------------------------------


class _Fields(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    native_name: str
    script: str
    script_code: str
    direction: TextDirection
    resource_level: Level
    bitext_count: int | None
    iso639_1: str | None
    iso639_3: str
    aliases: list[str] = []
    variants: list[LanguageVariant] = []


class _FloresRow(_Fields, kw_only=True, frozen=True):
    code: str


class _ExtraRow(_Fields, kw_only=True, frozen=True):
    key: str


class _CodeRow(msgspec.Struct, kw_only=True, frozen=True):
    code: str
    language: str
    also: list[str] = []


class _FloresFile(msgspec.Struct, frozen=True):
    source: dict[str, str]
    languages: list[_FloresRow]


class _ExtraFile(msgspec.Struct, frozen=True):
    source: dict[str, str]
    languages: list[_ExtraRow]


class _CodesFile(msgspec.Struct, frozen=True):
    source: dict[str, str]
    codes: list[_CodeRow]


def _read(name: str) -> bytes:
    return resources.files(__package__ or "gateway.catalog.languages").joinpath(name).read_bytes()


def _model_codes(name: str, known: set[str]) -> dict[str, str]:
    """FLORES/extra key -> model code, from one model family's code list."""
    table: dict[str, str] = {}
    for row in msgspec.json.decode(_read(name), type=_CodesFile).codes:
        for key in (row.language, *row.also):
            if key not in known or key in table:
                raise ValueError(f"{name}: code {row.code!r} names unknown or repeated {key!r}")
            table[key] = row.code
    return table


def _normalise(code: str) -> str:
    return code.strip().replace("_", "-").lower()


# --- The registry --------------------------------------------------------------------------


class LanguageRegistry:
    """All languages, and resolution of any code form to one of them."""

    def __init__(self, languages: Sequence[Language]) -> None:
        self.languages = tuple(languages)
        self.by_key = {lang.key: lang for lang in self.languages}
        # Every script variety of one language shares its ISO 639-3 code ("zho": Hans, Hant).
        self._groups: dict[str, list[Language]] = {}
        for lang in self.languages:
            self._groups.setdefault(lang.iso639_3, []).append(lang)
        self._subtags: dict[str, str] = {}  # language subtag -> ISO 639-3 group
        self._exact: dict[str, Language] = {}  # whole normalised tag -> language
        for lang in self.languages:
            bare = [a for a in lang.aliases if "-" not in a]
            for subtag in (lang.iso639_1, lang.iso639_3, lang.m2m, lang.whisper, *bare):
                if subtag is not None:
                    self._claim(self._subtags, subtag.lower(), lang.iso639_3, lang.key)
            full = [a for a in lang.aliases if "-" in a] + [v.code for v in lang.variants]
            for tag in (lang.key, lang.tag, *full):
                self._claim(self._exact, _normalise(tag), lang, lang.key)

    @staticmethod
    def _claim(index: dict[str, _V], k: str, v: _V, who: str) -> None:
        if index.get(k, v) != v:
            raise ValueError(f"language code {k!r} is claimed twice (again by {who})")
        index[k] = v

    def default_of(self, iso639_3: str) -> Language:
        """The variety a bare language code means: the one with the most training data."""
        return max(self._groups[iso639_3], key=lambda lang: lang.bitext_count or 0)

    def lookup(self, code: str) -> Language | None:
        norm = _normalise(code)
        if norm in self._exact:
            return self._exact[norm]
        subtags = norm.split("-")
        if not all(sub.isascii() and sub.isalnum() and len(sub) <= 8 for sub in subtags):
            return None  # not a well-formed tag ("en_", "fr--CA")
        group = self._subtags.get(subtags[0])
        if group is None:
            return None
        script, region = _script_and_region(subtags[1:])
        members = self._groups[group]
        for lang in members:
            if script is not None and lang.script_code.lower() == script:
                return lang
        for lang in members:
            if region is not None and any(_region(v.code) == region for v in lang.variants):
                return lang
        # An unknown script or region falls back to the default variety (sr-Latn -> srp_Cyrl:
        # NLLB-200 has only Cyrillic Serbian).
        return self.default_of(group)

    def suggestions(self, code: str, n: int = 5) -> list[str]:
        """Known codes that look like `code`, for error messages."""
        # English names take part too, so "frnch" suggests "fr" by way of "french".
        candidates = {lang.name.lower(): lang.tag for lang in self.languages}
        candidates.update({_normalise(lang.tag): lang.tag for lang in self.languages})
        candidates.update({_normalise(lang.key): lang.key for lang in self.languages})
        norm = _normalise(code)
        # Names containing the input come first, best-resourced first ("arabic" -> "ar").
        named = [
            lang.tag
            for lang in sorted(self.languages, key=lambda lang: -(lang.bitext_count or 0))
            if len(norm) > 3 and norm in lang.name.lower()
        ]
        close = difflib.get_close_matches(norm, list(candidates), n=n * 2, cutoff=0.5)
        return list(dict.fromkeys(named + [candidates[c] for c in close]))[:n]


def _script_and_region(subtags: Iterable[str]) -> tuple[str | None, str | None]:
    script: str | None = None
    for sub in subtags:
        if len(sub) == 4 and sub.isalpha() and script is None:
            script = sub
        elif (len(sub) == 2 and sub.isalpha()) or (len(sub) == 3 and sub.isdigit()):
            return script, sub
        else:
            break  # variant and extension subtags do not change the language
    return script, None


def _region(tag: str) -> str:
    return _normalise(tag).rsplit("-", 1)[-1]


def _tag(row: _Fields, shared: bool) -> str:
    base = row.iso639_1 or row.iso639_3
    return f"{base}-{row.script_code}" if shared else base


def load_registry() -> LanguageRegistry:
    flores = msgspec.json.decode(_read("flores200.json"), type=_FloresFile).languages
    extra = msgspec.json.decode(_read("extra_languages.json"), type=_ExtraFile).languages
    rows: list[tuple[str, _Fields]] = [(r.code, r) for r in flores] + [(r.key, r) for r in extra]
    known = {key for key, _ in rows}
    m2m = _model_codes("m2m100.json", known)
    whisper = _model_codes("whisper.json", known)
    per_iso3: dict[str, int] = {}
    for _, row in rows:
        per_iso3[row.iso639_3] = per_iso3.get(row.iso639_3, 0) + 1
    languages = [
        Language(
            key=key,
            flores=key if isinstance(row, _FloresRow) else None,
            m2m=m2m.get(key),
            whisper=whisper.get(key),
            iso639_1=row.iso639_1,
            iso639_3=row.iso639_3,
            tag=_tag(row, per_iso3[row.iso639_3] > 1),
            name=row.name,
            native_name=row.native_name,
            script=row.script,
            script_code=row.script_code,
            direction=row.direction,
            resource_level=row.resource_level,
            bitext_count=row.bitext_count,
            aliases=tuple(row.aliases),
            variants=tuple(row.variants),
        )
        for key, row in rows
    ]
    return LanguageRegistry(languages)


REGISTRY = load_registry()


# --- The service-wide API ------------------------------------------------------------------


def resolve_language(code: str) -> Language:
    """Any code form (fr, fra, fra_Latn, zh-TW, zh_Hant, pt-BR, sr-Latn) -> its Language.

    Raises ServiceError(CONFIGURATION_ERROR) with suggestions for codes no model knows.
    """
    lang = REGISTRY.lookup(code) if code.strip() else None
    if lang is None:
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Unknown language code {code!r}",
            details={"language": code, "suggestions": REGISTRY.suggestions(code)},
        )
    return lang


def model_code(lang: Language, architecture: Architecture) -> str | None:
    if architecture == "nllb":
        return lang.flores
    return lang.m2m if architecture == "m2m" else lang.whisper


def to_model_code(lang: Language, architecture: Architecture) -> str:
    """The code a model family expects: fra_Latn (nllb), fr (m2m), fr (whisper)."""
    code = model_code(lang, architecture)
    if code is None:
        supported = [lang.tag for lang in languages_for(architecture)]
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"{lang.name} ({lang.tag}) is not supported by {architecture} models",
            details={"language": lang.tag, "architecture": architecture, "supported": supported},
        )
    return code


def languages_for(architecture: Architecture) -> list[Language]:
    """Every language a model family supports (whisper: zh counts twice, Hans and Hant)."""
    return [lang for lang in REGISTRY.languages if model_code(lang, architecture) is not None]
