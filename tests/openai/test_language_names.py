"""Whisper's language names, which OpenAI's verbose_json reports as `language`."""

from __future__ import annotations

from gateway.catalog.languages import languages_for
from gateway.openai.language_names import WHISPER_LANGUAGE_NAMES, language_name


def test_every_whisper_code_the_service_knows_has_a_name() -> None:
    codes = {lang.whisper for lang in languages_for("whisper")}
    assert codes == set(WHISPER_LANGUAGE_NAMES)


def test_names_are_whisper_s_lowercase_english_names() -> None:
    assert language_name("en") == "english"
    assert language_name("fr") == "french"
    assert language_name("jw") == "javanese"
    assert language_name("yue") == "cantonese"
    assert language_name("ht") == "haitian creole"
    assert language_name("EN") == "english"


def test_an_unknown_code_comes_back_as_is() -> None:
    assert language_name("xx") == "xx"
