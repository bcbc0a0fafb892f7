"""Each decoding option's range is defined once (protocol.options) and refused on every path
a value comes in by: the session config, the query and form fields, the translation body,
the wire a worker decodes, and options built in code. Its default is defined once too."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from gateway.sessions.config_update import apply_config_update
from gateway.sessions.defaults import ConfigDefaults, default_model_config
from gateway.transcription.options import TranscribeParams, options_for, parse_params
from gateway.translation import service as translation
from protocol.api.translation import TranslateRequest
from protocol.errors import ErrorCode, ServiceError
from protocol.options import TranscribeOptions, TranslateOptions, check_options
from protocol.wire import messages as ipc
from tests.sessions.conftest import make_checks

DEFAULTS = default_model_config(
    ConfigDefaults(
        asr_model="openai/whisper-tiny.en",
        mt_model="facebook/nllb-200-distilled-600M",
        device="cpu",
        asr_compute_type="int8",
        mt_compute_type="int8",
        target_language="fr",
    )
)
CHECKS = make_checks(gpu=False)

# option -> (values at the edges of its range, values just outside it)
ASR_RANGES: dict[str, tuple[list[Any], list[Any]]] = {
    "beam_size": ([1, 20], [0, 21]),
    "best_of": ([1, 20], [0, 21]),
    "temperature": ([0.0, 1.0], [-0.1, 1.5]),
    "compression_ratio_threshold": ([0.1, 10.0], [0.0, 10.5]),
    "logprob_threshold": ([-10.0, 0.0], [-10.5, 0.5]),
    "no_speech_threshold": ([0.0, 1.0], [-0.1, 1.1]),
    "initial_prompt": (["", "x" * 2048], ["x" * 2049]),
    # A session also checks the code names a language: the longest valid one is not a code.
    "language": (["en"], ["", "x" * 33]),
}
MT_RANGES: dict[str, tuple[list[Any], list[Any]]] = {
    "beam_size": ([1, 20], [0, 21]),
    "length_penalty": ([0.0, 5.0], [-0.1, 5.5]),
    "no_repeat_ngram_size": ([0, 10], [-1, 11]),
    "max_input_length": ([2, 4096], [1, 4097]),
    "max_new_tokens": ([1, 4096], [0, 4097]),
}
SESSION_ASR = set(msgspec.structs.asdict(DEFAULTS.asr.parameters)) | {"initial_prompt"}
QUERY = {f.name for f in msgspec.structs.fields(TranscribeParams)}
BODY = {f.name for f in msgspec.structs.fields(TranslateRequest)}


def _cases(ranges: dict[str, tuple[list[Any], list[Any]]], bad: bool) -> list[tuple[str, Any]]:
    return [
        (name, value)
        for name, (good, wrong) in ranges.items()
        for value in (wrong if bad else good)
    ]


def _wire(kind: str, options: dict[str, Any]) -> bytes:
    fields: dict[str, Any] = {"type": kind, "request_id": "r", "model_id": "m", "options": options}
    if kind == "Translate":
        fields |= {"texts": ["Hi."], "source_language": "en", "target_language": "fr"}
    return msgspec.msgpack.encode(fields)


def _session_patch(kind: str, name: str, value: Any) -> dict[str, Any]:
    if name == "language":
        return {kind: {name: value}}
    return {kind: {"parameters": {name: value}}}


def _check_all_paths(kind: str, name: str, value: Any, refused: bool) -> None:
    """Every path that takes option `name` refuses `value` (refused) or takes it."""
    struct = TranscribeOptions if kind == "asr" else TranslateOptions
    message = "Transcribe" if kind == "asr" else "Translate"
    paths: list[tuple[str, Any]] = [
        ("wire", lambda: ipc.decode_from_gateway(_wire(message, {name: value}))),
        ("in code", lambda: check_options(msgspec.structs.replace(struct(), **{name: value}))),
    ]
    if kind == "asr" and (name in SESSION_ASR or name == "language"):
        patch = _session_patch("asr", name, value)
        paths.append(
            ("session", lambda: apply_config_update(DEFAULTS, msgspec.json.encode(patch), CHECKS))
        )
    if kind == "mt":
        patch = _session_patch("mt", name, value)
        paths.append(
            ("session", lambda: apply_config_update(DEFAULTS, msgspec.json.encode(patch), CHECKS))
        )
    if kind == "asr" and name in QUERY:
        paths.append(("query", lambda: parse_params({name: str(value)})))
    if kind == "mt" and name in BODY:
        body = msgspec.json.encode({"text": "Hi.", name: value})
        paths.append(("body", lambda: msgspec.json.decode(body, type=TranslateRequest)))
    for path, attempt in paths:
        if not refused:
            attempt()  # raises if a value in range were refused
            continue
        with pytest.raises((ServiceError, msgspec.ValidationError)) as caught:
            attempt()
        error = caught.value
        if isinstance(error, ServiceError):
            assert error.code is ErrorCode.CONFIGURATION_ERROR, path
            named = error.details.get("field") or error.details.get("parameter")
            assert str(named).endswith(name), (path, error.details)
        else:
            assert re.search(rf"at `\$(\.options)?\.{name}`", str(error)), (path, str(error))


@pytest.mark.parametrize(("name", "value"), _cases(ASR_RANGES, bad=True))
def test_transcription_options_out_of_range_are_refused_everywhere(name: str, value: Any) -> None:
    _check_all_paths("asr", name, value, refused=True)


@pytest.mark.parametrize(("name", "value"), _cases(ASR_RANGES, bad=False))
def test_transcription_options_at_the_edges_are_taken_everywhere(name: str, value: Any) -> None:
    _check_all_paths("asr", name, value, refused=False)


@pytest.mark.parametrize(("name", "value"), _cases(MT_RANGES, bad=True))
def test_translation_options_out_of_range_are_refused_everywhere(name: str, value: Any) -> None:
    _check_all_paths("mt", name, value, refused=True)


@pytest.mark.parametrize(("name", "value"), _cases(MT_RANGES, bad=False))
def test_translation_options_at_the_edges_are_taken_everywhere(name: str, value: Any) -> None:
    _check_all_paths("mt", name, value, refused=False)


def test_a_session_that_changes_nothing_decodes_as_a_request_without_one() -> None:
    assert options_for(TranscribeParams(), DEFAULTS.asr) == TranscribeOptions()
    assert options_for(TranscribeParams(), None) == TranscribeOptions()
    request = TranslateRequest(text="Hi.")
    assert translation.options_for(request, DEFAULTS.mt) == TranslateOptions()
    assert translation.options_for(request, None) == TranslateOptions()


def test_a_request_sets_its_options_over_the_session() -> None:
    session = msgspec.structs.replace(
        DEFAULTS.asr, parameters=msgspec.structs.replace(DEFAULTS.asr.parameters, beam_size=2)
    )
    params = parse_params({"temperature": "0.4", "word_timestamps": "true"})
    options = options_for(params, session)
    assert (options.beam_size, options.temperature, options.word_timestamps) == (2, 0.4, True)
    asked = TranslateRequest(text="Hi.", beam_size=7, return_confidence=True)
    decoded = translation.options_for(asked, DEFAULTS.mt)
    assert (decoded.beam_size, decoded.max_new_tokens, decoded.return_scores) == (7, 256, True)
