"""Audio from a request: the raw body (with its content type) or a multipart `file` field.

The body is read through a limit first, so an upload over LX_MAX_UPLOAD_MB is refused
(413) without reading the rest, whichever way it comes. Raw PCM (`audio/L16`, 16-bit
little-endian mono) says its rate in the type (`audio/L16;rate=8000`; 16 kHz without one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from gateway.http.io import read_body, size_text
from gateway.transcription.audio_sniff import check_audio_bytes
from gateway.transcription.upload_budget import UploadHold
from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import (
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    WHISPER_SAMPLE_RATE,
    AudioEncoding,
)

_PCM_TYPES = {"audio/l16", "audio/pcm", "audio/x-pcm"}
# Containers PyAV decodes; an absent or generic type is decoded by sniffing the bytes.
_CONTAINER_TYPES = {
    "audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave", "audio/flac", "audio/x-flac",
    "audio/mpeg", "audio/mp3", "audio/ogg", "audio/opus", "audio/webm", "video/webm",
    "audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac", "video/mp4", "application/octet-stream",
}  # fmt: skip
# Every media type a raw audio body may have (the OpenAPI document lists these).
AUDIO_MEDIA_TYPES = tuple(sorted(_CONTAINER_TYPES | _PCM_TYPES))
_MULTIPART_OVERHEAD = 256 * 1024  # boundaries and small fields around the file


@dataclass(frozen=True)
class AudioUpload:
    data: bytes
    encoding: AudioEncoding
    sample_rate: int = WHISPER_SAMPLE_RATE  # of raw PCM; a container says its own
    filename: str | None = None
    # The other multipart fields (model, language, ...), each with all its values.
    fields: dict[str, list[str]] = field(default_factory=dict)

    def field(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else None


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def audio_format_of(content_type: str) -> tuple[AudioEncoding, int]:
    """The encoding and sample rate a content type declares; UNSUPPORTED_MEDIA_TYPE if it
    is not audio this service reads."""
    kind = media_type(content_type)
    if kind in _PCM_TYPES:
        return "pcm_s16le", _pcm_rate(kind, _type_parameters(content_type))
    if not kind or kind in _CONTAINER_TYPES:
        return "container", WHISPER_SAMPLE_RATE
    raise ServiceError(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        f"Content type {kind!r} is not audio this service reads.",
        {"content_type": kind, "supported": sorted(_CONTAINER_TYPES | _PCM_TYPES)},
    )


def _type_parameters(content_type: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in content_type.split(";")[1:])
    return {key.strip().lower(): value.strip().strip('"') for key, _, value in pairs}


def _pcm_rate(kind: str, parameters: dict[str, str]) -> int:
    channels = parameters.get("channels", "1")
    if channels != "1":
        raise ServiceError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Raw PCM must be mono; {kind} says channels={channels}.",
            {"content_type": kind, "channels": channels, "supported_channels": [1]},
        )
    rate = parameters.get("rate", str(WHISPER_SAMPLE_RATE))
    if not rate.isdigit() or not MIN_SAMPLE_RATE <= int(rate) <= MAX_SAMPLE_RATE:
        raise ServiceError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Raw PCM at rate={rate} is not supported: the rate must be a whole number of "
            f"samples per second from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE}.",
            {
                "content_type": kind,
                "rate": rate,
                "min_rate": MIN_SAMPLE_RATE,
                "max_rate": MAX_SAMPLE_RATE,
            },
        )
    return int(rate)


async def read_audio(request: Request, limit_bytes: int, hold: UploadHold) -> AudioUpload:
    """The upload, refused (400 INVALID_AUDIO) if its bytes cannot be audio of its type;
    its bytes are held against the gateway's upload budget through `hold` as they come
    (503 QUEUE_FULL past it)."""
    content_type = request.headers.get("content-type", "")
    limit = f"{size_text(limit_bytes)} (LX_MAX_UPLOAD_MB)"
    budget = {"expect": hold.expect, "add": hold.add}
    if media_type(content_type) != "multipart/form-data":
        encoding, rate = audio_format_of(content_type)  # refuse before reading the body
        upload = AudioUpload(await read_body(request, limit_bytes, limit, **budget), encoding, rate)
    else:
        body = await read_body(request, limit_bytes + _MULTIPART_OVERHEAD, limit, **budget)
        upload = await _from_multipart(request, body, limit_bytes, hold)
        del body
        hold.set(len(upload.data))  # the body is gone; the file's bytes stay
    check_audio_bytes(upload.data, upload.encoding)
    return upload


async def _from_multipart(
    request: Request, body: bytes, limit_bytes: int, hold: UploadHold
) -> AudioUpload:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=64)
    except Exception as exc:  # Starlette raises several types for malformed multipart
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"The multipart body cannot be read: {exc}", {}
        ) from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            "A multipart upload needs the audio in a file field named 'file'.",
            {"field": "file"},
        )
    hold.expect(upload.size or 0)  # read from its spool file: a second copy beside the body
    data = await upload.read()
    hold.add(len(data))
    await form.close()
    if len(data) > limit_bytes:
        raise ServiceError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The audio file is larger than the limit of {size_text(limit_bytes)} "
            "(LX_MAX_UPLOAD_MB).",
            {"limit_bytes": limit_bytes, "received_bytes_at_least": len(data)},
        )
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(key, []).append(value)
    encoding, rate = audio_format_of(upload.content_type or "")
    return AudioUpload(data, encoding, rate, upload.filename, fields)
