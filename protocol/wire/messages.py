"""Messages between the gateway and its workers (msgpack over ZeroMQ).

Every message is a tagged Struct; each direction has one union, so one decode both
validates and dispatches. Requests carry `request_id`; replies and events echo it.
A request gets any number of partial replies (`PartialReply`, in order) and then exactly
one final reply (`FinalReply`); the gateway may send more messages naming an open request
(`Cancel`, a live stream's `StreamAudio` and `StreamEnd`). Audio travels as its own ZeroMQ
frame after the message, never inside msgpack. New fields are appended with defaults so older
peers still decode.
Decoding checks every range (the decoding options are `protocol.options`'), so a worker
refuses what is out of range.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from protocol.errors import ErrorCode
from protocol.options import BeamSize, InitialPrompt, Language, TranscribeOptions, TranslateOptions
from protocol.vocabulary import (
    WHISPER_SAMPLE_RATE,
    AudioEncoding,
    ComputeType,
    ModelKind,
    RawEncoding,
    SampleRate,
    Task,
)

PROTOCOL_VERSION = 1

LoadStage = Literal["resolving", "downloading", "loading_weights", "warming_up"]
# Which of a model's lanes a request waits in (worker/scheduling/lanes.py says how each is
# served): `interactive` (probes, short clips, live audio) goes before `bulk` (long files).
WorkClass = Literal["interactive", "bulk"]


class _Message(msgspec.Struct, tag=True, kw_only=True, omit_defaults=True):
    pass


# ---------------------------------------------------------------- shared shapes


class MemoryInfo(msgspec.Struct, kw_only=True):
    """Memory of the device a worker owns, and of the worker process itself (MiB)."""

    total_mb: float
    available_mb: float
    process_rss_mb: float
    device_used_mb: float = 0.0


class ModelSource(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a worker finds a model's files: bundled, a local path, or a hub repository."""

    bundled: bool = False
    repo_id: str | None = None
    revision: str | None = None
    local_path: str | None = None


class DecodeSetup(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How a worker runs one speech model's transcriptions (worker/decode_plan.py)."""

    concurrency: int  # transcriptions running at once
    threads: int  # CTranslate2 threads per decode
    replicas: int  # decodes that really run in parallel
    max_batch_size: int  # windows of concurrent transcriptions per call; 1: never batched
    batch_encode: bool = False  # the encoder's calls batched too, not only the decoder's
    chosen: str = "auto"  # "auto", or which LX_* figures were set by hand
    bulk_slots: int = 0  # of `concurrency`, what long files may hold; 0: all


class LoadedModel(msgspec.Struct, kw_only=True, omit_defaults=True):
    model_id: str
    kind: ModelKind
    device: str
    compute_type: str
    loaded_at: str
    memory_usage_mb: float
    load_time_ms: float
    inference_count: int = 0
    inference_errors: int = 0
    in_flight: int = 0
    decoding: DecodeSetup | None = None  # speech models only


class Segment(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: int
    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    words: list[Word] | None = None
    seek: int = 0  # the decoding window's offset, in mel frames
    tokens: list[int] | None = None
    temperature: float = 0.0  # the temperature the segment was finally decoded at


class Word(msgspec.Struct, kw_only=True):
    start: float
    end: float
    word: str
    probability: float


class Translation(msgspec.Struct, kw_only=True, omit_defaults=True):
    text: str
    # The model's log-probability score (length-normalised as length_penalty says), if asked.
    score: float | None = None
    tokens: int = 0  # tokens generated, without the target language token


# ---------------------------------------------------------------- gateway -> worker


class LoadModel(_Message):
    request_id: str
    model_id: str
    kind: ModelKind
    source: ModelSource
    # Always a concrete type: the gateway resolves what a client left open before it
    # admits the load (the memory estimate depends on it), so the worker never guesses.
    compute_type: ComputeType
    cpu_threads: int = 0
    warmup: bool = True
    # The worker gives up (and keeps nothing) once a load runs longer; 0: no limit.
    timeout_ms: int = 0
    # The HTTP request's X-Request-ID, for the worker's log lines ("": none).
    http_request_id: str = ""


class UnloadModel(_Message):
    request_id: str
    model_id: str
    # The HTTP request's X-Request-ID, for the worker's log lines ("": none).
    http_request_id: str = ""


class StatusRequest(_Message):
    request_id: str


class Transcribe(_Message):
    """Audio follows as the next frame: any container PyAV reads, or raw mono samples
    (`sample_rate` says at what rate; the worker resamples them to 16 kHz)."""

    request_id: str
    model_id: str
    audio_format: AudioEncoding = "container"
    options: TranscribeOptions = msgspec.field(default_factory=TranscribeOptions)
    sample_rate: SampleRate = WHISPER_SAMPLE_RATE  # of raw samples; a container says its own
    # None: the worker judges from the audio's length (see worker/scheduling/inference.py).
    work_class: WorkClass | None = None
    # The HTTP request's X-Request-ID, for the worker's log lines ("": none).
    http_request_id: str = ""
    # Also send each segment as a TranscribeSegment partial reply as soon as it is decoded
    # (streamed answers); the final TranscribeResult still holds them all.
    stream_segments: bool = False
    # Longer audio (as decoded, not as sent) is refused with PAYLOAD_TOO_LARGE; 0: no limit.
    max_audio_seconds: Annotated[float, msgspec.Meta(ge=0.0)] = 0.0


class Translate(_Message):
    """Languages are the model's own codes (`fra_Latn` for NLLB, `fr` for M2M100)."""

    request_id: str
    model_id: str
    texts: list[str]
    source_language: str
    target_language: str
    options: TranslateOptions = msgspec.field(default_factory=TranslateOptions)
    # The HTTP request's X-Request-ID, for the worker's log lines ("": none).
    http_request_id: str = ""


class Shutdown(_Message):
    reason: str = ""


class HelloRequest(_Message):
    """Asks a worker to introduce itself again: the gateway lost track of it (a remote
    worker that reconnects, or a gateway that restarted), and its Hello carries its models."""

    reason: str = ""


class DetectLanguage(_Message):
    """Which language each text is in (ISO 639 codes), among `candidates` when given."""

    request_id: str
    texts: list[str]
    candidates: list[str] | None = None
    # The HTTP request's X-Request-ID, for the worker's log lines ("": none).
    http_request_id: str = ""


class Cancel(_Message):
    """The gateway no longer waits for this request: queued, it is dropped without a reply;
    running, it stops at its next safe point if its work can (any reply is ignored)."""

    request_id: str


class DownloadModel(_Message):
    """Fetch a model's files into this host's cache without loading them: byte progress
    comes as LoadProgress (stage `downloading`), then a DownloadResult."""

    request_id: str
    model_id: str
    source: ModelSource


# ---------------------------------------------------------------- live caption streams


class LiveResume(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where a live stream stands after its last final (worker/live/events.py ResumeState):
    with the audio that follows, enough to go on on another worker."""

    start_sample: int = 0  # the first 16 kHz sample no final covers, from the stream's start
    segment_index: int = 0  # the index the next final gets
    prompt: str | None = None  # the end of the earlier finals: the next segment's prompt
    last_end_ms: int = 0  # where the last final ended; the next starts no earlier


class LiveOptions(msgspec.Struct, kw_only=True, omit_defaults=True):
    """How a live stream decodes (the session's ASR config decides them)."""

    language: Language | None = None  # None: the model's own (English-only) or detected
    task: Task = "transcribe"
    beam_size: BeamSize = 1  # of partial decodes: many, so cheap
    final_beam_size: BeamSize = 5  # of the one decode that makes each final
    initial_prompt: InitialPrompt | None = None  # the first segment's prompt
    # A partial decode once this much new speech waits (a final whenever one is due).
    partial_every_ms: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 400


class StreamOpen(_Message):
    """Opens a live caption stream on a loaded speech model. The audio the gateway holds
    for it (client frames in `encoding` at `sample_rate`, starting at 16 kHz stream sample
    `held_start_sample`) follows as the next frame, if any; on a re-opened stream `resume`
    says where the last final left it. Partial replies: CaptionPartial, CaptionFinal; the
    final reply: StreamClosed once the audio ended and every final is out."""

    request_id: str
    model_id: str
    encoding: RawEncoding = "pcm_s16le"
    sample_rate: SampleRate = WHISPER_SAMPLE_RATE
    options: LiveOptions = msgspec.field(default_factory=LiveOptions)
    resume: LiveResume | None = None
    held_start_sample: int = 0
    audio_ended: bool = False  # the client already sent client.audio.end
    sid: str = ""  # for the worker's log lines
    http_request_id: str = ""


class StreamAudio(_Message):
    """More audio of an open stream: client frames as the next ZeroMQ frame. `seq` counts a
    stream's chunks from 1 (a re-opened stream starts again at 1)."""

    request_id: str
    seq: int


class StreamEnd(_Message):
    """The client's `client.audio.end`: what is left becomes final, then StreamClosed."""

    request_id: str


GatewayMessage = (
    LoadModel
    | UnloadModel
    | StatusRequest
    | Transcribe
    | Shutdown
    | Translate
    | HelloRequest
    | DetectLanguage
    | Cancel
    | DownloadModel
    | StreamOpen
    | StreamAudio
    | StreamEnd
)


# ---------------------------------------------------------------- worker -> gateway


class Hello(_Message):
    worker_id: str
    device: str
    pid: int
    host: str
    memory: MemoryInfo
    version: int = PROTOCOL_VERSION
    device_name: str = ""
    compute_types: list[str] = msgspec.field(default_factory=list)
    models: list[LoadedModel] = msgspec.field(default_factory=list)


class LaneDepth(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Requests of one model and class of work waiting in a worker (not yet running)."""

    model_id: str
    work_class: str
    queued: int = 0


class Heartbeat(_Message):
    worker_id: str
    seq: int
    memory: MemoryInfo
    in_flight: int = 0
    # Every lane the worker has (an emptied lane stays, at 0), for the gateway's metrics.
    queues: list[LaneDepth] = msgspec.field(default_factory=list)


class LoadProgress(_Message):
    request_id: str
    model_id: str
    stage: LoadStage
    progress: float
    memory_used_mb: float
    downloaded_bytes: int | None = None
    total_bytes: int | None = None


class LoadResult(_Message):
    request_id: str
    model: LoadedModel
    # The worker's memory measured once the model is in (the gateway's admission uses it
    # instead of asking again).
    memory: MemoryInfo | None = None


class UnloadResult(_Message):
    request_id: str
    model_id: str
    memory_freed_mb: float
    memory: MemoryInfo | None = None  # measured once the model is out


class StatusReply(_Message):
    request_id: str
    models: list[LoadedModel]
    memory: MemoryInfo


class TranscribeResult(_Message):
    request_id: str
    model_id: str
    device: str
    text: str
    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    inference_ms: float
    # Time the request waited in the worker before it ran, and the requests (ASR) or texts
    # (MT) of the batch it ran in; 0: not reported (an older worker).
    queue_ms: float = 0.0
    batch_size: int = 0


class TranslateResult(_Message):
    request_id: str
    model_id: str
    device: str
    translations: list[Translation]  # one per text, in order
    inference_ms: float  # of the whole batch it ran in
    queue_ms: float = 0.0
    batch_size: int = 0  # texts in that batch, its own and other requests'


class Goodbye(_Message):
    """A worker's last word before it ends on its own, so the gateway need not wait for
    missed heartbeats: `reason` is `oom` (memory limit), `shutdown` or `crash`."""

    worker_id: str
    reason: str
    message: str = ""


class ErrorReply(_Message):
    request_id: str
    code: ErrorCode
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class DetectedLanguage(msgspec.Struct, kw_only=True):
    code: str  # ISO 639-1 where one exists, else ISO 639-3
    probability: float


class LanguagesDetected(_Message):
    request_id: str
    languages: list[DetectedLanguage]  # one per text, in order


class TranscribeSegment(_Message):
    """One segment of a running transcription, as it is decoded (asked by `stream_segments`)."""

    request_id: str
    segment: Segment


class DownloadResult(_Message):
    request_id: str
    model_id: str
    path: str  # the model's folder on the worker's host
    # Bytes of the repository on disk when it ended, by its listing, and the listing's
    # total; both 0 when the files were already there and no listing was read.
    downloaded_bytes: int = 0
    total_bytes: int = 0


class CaptionWord(msgspec.Struct, kw_only=True):
    text: str  # with Whisper's leading space
    start_ms: int
    end_ms: int
    probability: float


class CaptionPartial(_Message):
    """A live stream's segment as heard so far; `stable_text` will not change."""

    request_id: str
    segment_index: int
    text: str
    stable_text: str = ""
    audio_ms: int = 0  # how much of the stream's audio the decode heard


class CaptionFinal(_Message):
    """A live stream's segment, final. Times are ms on the stream's clock."""

    request_id: str
    segment_index: int
    text: str
    start_ms: int
    end_ms: int
    words: list[CaptionWord] = msgspec.field(default_factory=list)
    # Everything before this 16 kHz sample is final: the gateway may drop that audio.
    end_sample: int = 0
    reason: str = ""  # end_of_speech, max_length, end_of_audio
    audio_ms: int = 0
    resume: LiveResume = msgspec.field(default_factory=LiveResume)  # the state right after


class StreamClosed(_Message):
    """A live stream's final reply: its audio ended and every final is out."""

    request_id: str
    finals: int = 0  # finals this worker sent for it
    audio_ms: int = 0  # audio it received, on the stream's clock


# What a request hears before its final reply, in order: load progress, a streamed
# transcription's segments, a live stream's captions.
PartialReply = LoadProgress | TranscribeSegment | CaptionPartial | CaptionFinal

# Replies that end a request.
FinalReply = (
    LoadResult
    | UnloadResult
    | StatusReply
    | TranscribeResult
    | ErrorReply
    | TranslateResult
    | LanguagesDetected
    | DownloadResult
    | StreamClosed
)

WorkerMessage = Hello | Heartbeat | Goodbye | PartialReply | FinalReply

_encoder = msgspec.msgpack.Encoder()
_gateway_decoder: msgspec.msgpack.Decoder[GatewayMessage] = msgspec.msgpack.Decoder(GatewayMessage)
_worker_decoder: msgspec.msgpack.Decoder[WorkerMessage] = msgspec.msgpack.Decoder(WorkerMessage)


def encode(message: GatewayMessage | WorkerMessage) -> bytes:
    return _encoder.encode(message)


def decode_from_gateway(frame: bytes) -> GatewayMessage:
    """Decode what a worker receives; raises msgspec.DecodeError/ValidationError if malformed."""
    return _gateway_decoder.decode(frame)


def decode_from_worker(frame: bytes) -> WorkerMessage:
    """Decode what the gateway receives; raises msgspec.DecodeError/ValidationError if malformed.

    An ErrorReply with a code this side does not know (a newer worker's) still fails its
    request, as INTERNAL_ERROR, instead of leaving it unanswered."""
    try:
        return _worker_decoder.decode(frame)
    except msgspec.ValidationError:
        reply = _with_unknown_code(frame)
        if reply is None:
            raise
        return reply


def _with_unknown_code(frame: bytes) -> ErrorReply | None:
    raw = msgspec.msgpack.decode(frame)
    if not isinstance(raw, dict) or raw.get("type") != "ErrorReply":
        return None
    code = raw.get("code")
    if not isinstance(code, str) or code in ErrorCode.__members__:
        return None  # malformed in some other way
    details = raw.get("details")
    raw["details"] = {**(details if isinstance(details, dict) else {}), "worker_code": code}
    raw["code"] = ErrorCode.INTERNAL_ERROR.value
    try:
        return msgspec.convert(raw, ErrorReply)
    except msgspec.ValidationError:
        return None
