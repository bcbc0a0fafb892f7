"""Is an upload audio at all? Judged from its first bytes before any work is queued: a container
by its signature (PyAV still decodes it in the worker), raw PCM by being whole samples.

A PNG sent as audio is refused here with 400 INVALID_AUDIO, naming what it looks like, instead
of occupying a worker's queue to fail there.
"""

from __future__ import annotations

from collections.abc import Callable

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import AudioEncoding

_Test = Callable[[bytes], bool]


def _at(offset: int, magic: bytes) -> _Test:
    return lambda head: head[offset : offset + len(magic)] == magic


def _mpeg_frame(head: bytes) -> bool:
    # An MPEG audio frame (MP3) or an ADTS frame (AAC) starts with 11 set sync bits.
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


# The containers and streams PyAV reads that uploads come in, by signature.
AUDIO_SIGNATURES: dict[str, list[_Test]] = {
    "WAV": [
        lambda h: h[:4] in (b"RIFF", b"RF64", b"BW64") and h[8:12] == b"WAVE",
        _at(0, b"riff\x2e\x91\xcf\x11"),  # Sony Wave64
    ],
    "FLAC": [_at(0, b"fLaC")],
    "MP3": [_at(0, b"ID3"), _mpeg_frame],  # an ADTS AAC stream starts the same way
    "Ogg (Vorbis, Opus, FLAC)": [_at(0, b"OggS")],
    "WebM / Matroska": [_at(0, b"\x1a\x45\xdf\xa3")],
    "MP4 / M4A / 3GP / MOV": [
        _at(4, b"ftyp"),
        _at(4, b"moov"),
        _at(4, b"mdat"),
        _at(4, b"free"),
        _at(4, b"wide"),
    ],
    "AIFF": [lambda h: h[:4] == b"FORM" and h[8:12] in (b"AIFF", b"AIFC")],
    "AU": [_at(0, b".snd")],
    "AMR": [_at(0, b"#!AMR")],
    "CAF": [_at(0, b"caff")],
    "WMA / ASF": [_at(0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11")],
    "AC-3": [_at(0, b"\x0b\x77")],
    "MPEG-TS": [lambda h: len(h) > 188 and h[0] == 0x47 and h[188] == 0x47],
}

# What a refused upload looks like instead, to say so.
_OTHER_SIGNATURES: dict[str, _Test] = {
    "a PNG image": _at(0, b"\x89PNG\r\n\x1a\n"),
    "a JPEG image": _at(0, b"\xff\xd8\xff"),
    "a GIF image": _at(0, b"GIF8"),
    "a WebP image": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "a PDF document": _at(0, b"%PDF"),
    "a ZIP archive": _at(0, b"PK\x03\x04"),
    "a gzip file": _at(0, b"\x1f\x8b"),
}


def container_name(head: bytes) -> str | None:
    """The audio container these first bytes start, or None."""
    for name, tests in AUDIO_SIGNATURES.items():
        if any(test(head) for test in tests):
            return name
    return None


def looks_like(head: bytes) -> str:
    # JPEG's signature also passes the MPEG sync test: name the other kinds first.
    for name, test in _OTHER_SIGNATURES.items():
        if test(head):
            return name
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "no audio format this service knows"
    return "text"


def check_audio_bytes(data: bytes, encoding: AudioEncoding) -> None:
    """INVALID_AUDIO unless `data` can be audio of this encoding."""
    if not data:
        raise ServiceError(ErrorCode.INVALID_AUDIO, "The audio is empty.", {"bytes": 0})
    head = data[:256]
    if encoding == "container":
        other = looks_like(head)
        if other.startswith("a ") or container_name(head) is None:
            raise ServiceError(
                ErrorCode.INVALID_AUDIO,
                f"The upload is not audio: it looks like {other}. This service reads "
                f"{', '.join(AUDIO_SIGNATURES)}, or raw 16-bit PCM sent as audio/L16.",
                {"bytes": len(data), "looks_like": other, "readable": list(AUDIO_SIGNATURES)},
            )
        return
    width = 2 if encoding == "pcm_s16le" else 4
    if len(data) % width:
        raise ServiceError(
            ErrorCode.INVALID_AUDIO,
            f"Raw {encoding} audio must be whole {8 * width}-bit samples: "
            f"{len(data)} bytes is not a multiple of {width}.",
            {"bytes": len(data), "encoding": encoding},
        )
