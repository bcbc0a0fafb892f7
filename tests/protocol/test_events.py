"""The WebSocket envelope has exactly the contract's shape."""

from __future__ import annotations

import msgspec

from protocol.api.events import ModelLoadProgress, envelope
from protocol.errors import ErrorCode, ServiceError


def test_envelope_has_contract_fields() -> None:
    event = envelope(
        "model.load.progress",
        ModelLoadProgress(
            model_id="openai/whisper-tiny.en",
            progress=65,
            stage="loading_weights",
            memory_used_mb=130,
        ),
        sid="sess_1234567890abcdef",
    )
    decoded = msgspec.json.decode(msgspec.json.encode(event))
    assert decoded == {
        "v": 1,
        "t": "model.load.progress",
        "sid": "sess_1234567890abcdef",
        "data": {
            "model_id": "openai/whisper-tiny.en",
            "progress": 65,
            "stage": "loading_weights",
            "memory_used_mb": 130,
        },
    }


def test_error_body_is_the_contract_envelope() -> None:
    error = ServiceError(ErrorCode.MODEL_NOT_FOUND, "no such model", {"model_id": "x/y"})
    assert msgspec.json.decode(msgspec.json.encode(error.body())) == {
        "error": {
            "code": "MODEL_NOT_FOUND",
            "message": "no such model",
            "details": {"model_id": "x/y"},
        }
    }
