"""One live caption stream of a session: it outlives its WebSocket (a client that comes back
within the resume window finds it going on) and its worker (re-opened on the restarted one
from the audio the gateway holds).

Three tasks of its own:
- the pump opens the stream on the worker that holds the session's speech model (loading
  it first when needed), reads its captions, and on a lost worker says `recovering`,
  re-opens it there with the held audio and `resume`, and says `resumed`;
- a writer per worker stream sends the audio as it comes (StreamAudio), then StreamEnd;
- the translator turns each final into `mt.final`, in order, through the batched MT path.

Everything the client is told goes through the outbox (numbered, kept for resume, held past
the client's window); the connection attached now (connection.py) is woken to send it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from gateway.live.audio_backlog import AudioBacklog
from gateway.live.captions import FinalLedger, final_data, partial_data
from gateway.live.errors import StreamError
from gateway.live.frames import AudioFormat
from gateway.live.limits import LiveLimits
from gateway.live.outbox import SessionOutbox
from gateway.live.recovery import RecoveryPolicy
from gateway.models.manager import ModelManager
from gateway.sessions.service import SessionService
from gateway.translation.service import TranslationService
from gateway.workers.request_stream import RequestStream
from protocol.api.catalog import ASRModelInfo
from protocol.api.config import AsrConfig, ModelConfig
from protocol.api.live import (
    HeartbeatData,
    HelloData,
    MtFinalData,
    MtPartialData,
    ServerData,
    ServerErrorData,
    ServerMessageType,
    StatusData,
    StatusStage,
    segment_id,
)
from protocol.api.translation import TranslateRequest
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import (
    CaptionFinal,
    CaptionPartial,
    LiveOptions,
    StreamAudio,
    StreamClosed,
    StreamEnd,
    StreamOpen,
)

log = logging.getLogger(__name__)


class StreamCounter(Protocol):
    """Counts the streams open by model (gateway.metrics' LiveStreams)."""

    def track(self, model_id: str) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class LiveDeps:
    """The gateway's parts a stream uses."""

    models: ModelManager
    sessions: SessionService
    translation: TranslationService
    open_streams: StreamCounter
    limits: LiveLimits


# Failures of one translation, not of the model: the next final is tried again.
_TRANSIENT_MT = frozenset({ErrorCode.WORKER_UNAVAILABLE, ErrorCode.QUEUE_FULL})


class _Reopen(Exception):
    """The session's ASR config changed: the stream goes on with it from the last final."""


def live_options(asr: AsrConfig) -> LiveOptions:
    """The session's ASR config as a live stream's decoding: its language and task, its
    beam for the finals (partials stay greedy: there are many) and its first prompt."""
    return LiveOptions(
        language=asr.language,
        task=asr.task,
        final_beam_size=asr.parameters.beam_size,
        initial_prompt=asr.parameters.initial_prompt,
    )


class LiveCaptionStream:
    def __init__(
        self, sid: str, deps: LiveDeps, audio_format: AudioFormat, hello: HelloData
    ) -> None:
        self.sid = sid
        self.format = audio_format
        self._deps = deps
        limits = deps.limits
        self.outbox = SessionOutbox(sid, limits)
        self.outbox.configure(hello.ack_mode, hello.max_in_flight)
        self.backlog = AudioBacklog(audio_format, limits.max_backlog_seconds)
        self.ledger = FinalLedger()
        self.recovery = RecoveryPolicy()
        self.resume_token = secrets.token_urlsafe(16)
        self.audio_ended = False
        # The stream said its last word (ended or failed): once sent, the socket closes.
        self.finished = False
        self.close_code = 1000
        self.listener: Callable[[], None] | None = None  # wakes the attached connection
        self._unsent: list[bytes] = []  # audio not yet sent to the open worker stream
        self._audio_waiting = asyncio.Event()
        self._asr: AsrConfig | None = None
        self._ready_said = False
        self._recovering = False
        self._newest_caption_ms = 0
        self._finals: asyncio.Queue[CaptionFinal | None] = asyncio.Queue()
        self.accept = set(hello.accept)  # extra message types the client asked for
        self._newest_partial: CaptionPartial | None = None
        self._partial_waiting = asyncio.Event()
        self._mt_refused: tuple[str, str] | None = None  # (model, target) that failed
        self._tasks: list[asyncio.Task[None]] = []
        # Said outside the outbox when the outbox itself is full (QUEUE_FULL).
        self.last_words: ServerErrorData | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._pump(), name=f"live {self.sid}"),
            asyncio.create_task(self._translate(), name=f"live mt {self.sid}"),
            asyncio.create_task(self._translate_partials(), name=f"live mt.partial {self.sid}"),
        ]

    async def cancel(self) -> None:
        """Stop at once: the worker stream is cancelled (Cancel), nothing more is said."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.finished = True

    @property
    def delivered(self) -> bool:
        """Finished, and the client has been sent everything."""
        return self.finished and self.outbox.held == 0

    # ------------------------------------------------------------ from the client

    def feed(self, payload: bytes) -> None:
        """Audio in the stream's format; StreamError QUEUE_FULL (not taken) past the backlog."""
        self.backlog.append(payload)
        self._unsent.append(payload)
        self._audio_waiting.set()

    def end_audio(self) -> None:
        self.audio_ended = True
        self._audio_waiting.set()

    def heartbeat(self) -> HeartbeatData:
        """`q_in`: ms of audio no final covers yet; `q_out`: messages waiting for the
        client's window; `latency_ms_est`: how far the newest caption is behind the audio."""
        received_ms = int(self.format.seconds(self.backlog.received_frames) * 1000)
        return HeartbeatData(
            q_in=int(self.backlog.held_seconds * 1000),
            q_out=self.outbox.held,
            latency_ms_est=max(0, received_ms - self._newest_caption_ms),
        )

    # ------------------------------------------------------------ saying things

    def _say(self, t: ServerMessageType, data: ServerData) -> None:
        try:
            self.outbox.add(t, data)
        except StreamError as exc:
            # A client that stopped acknowledging: the stream cannot go on.
            log.warning("live stream %s: %s", self.sid, exc.detail)
            self.last_words = exc.data()
            self.close_code = 1011
            self.finished = True
            current = asyncio.current_task()
            for task in self._tasks:
                if task is not current:
                    task.cancel()
            self._wake()
            raise asyncio.CancelledError from exc
        self._wake()

    def _status(self, stage: StatusStage, detail: str | None = None) -> None:
        self._say("status", StatusData(stage=stage, detail=detail))

    def _wake(self) -> None:
        if self.listener is not None:
            self.listener()

    # ------------------------------------------------------------ the worker side

    async def _pump(self) -> None:
        try:
            while True:
                try:
                    closed = await self._follow_worker()
                    log.info(
                        "live stream %s closed on the worker: %d finals, %d ms of audio",
                        self.sid,
                        closed.finals,
                        closed.audio_ms,
                    )
                    break
                except _Reopen:
                    continue
                except (ServiceError, TimeoutError) as error:
                    delay = self.recovery.retry_after(error)
                    if delay is None:
                        raise
                    log.warning("live stream %s: worker lost (%s); re-opening", self.sid, error)
                    if not self._recovering:
                        self._recovering = True
                        self._status("recovering", str(error))
                    await asyncio.sleep(delay)
            self._finals.put_nowait(None)
            self._tasks[2].cancel()  # no partial is open any more
            await self._tasks[1]  # every mt.final before `ended`
            self._status("ended", f"{self.ledger.finals} finals")
        except ServiceError as error:
            model_id = self._asr.model_id if self._asr is not None else ""
            self._fail(error.code, error.message, self._suggestions(error, model_id))
        except TimeoutError:
            self._fail(ErrorCode.WORKER_UNAVAILABLE, "The worker stopped answering.", [])
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live stream %s failed", self.sid)
            self._fail(ErrorCode.INTERNAL_ERROR, "The stream failed in the gateway.", [])
        finally:
            if not self.finished:
                self.finished = True
                self._wake()

    def _fail(self, code: ErrorCode, detail: str, suggestions: list[str]) -> None:
        if suggestions:
            detail = f"{detail} Suggestions: {'; '.join(suggestions)}"
        self._say("server.error", ServerErrorData(code=code, detail=detail))
        self.close_code = 1011
        self.finished = True
        self._wake()

    def _suggestions(self, error: ServiceError, model_id: str) -> list[str]:
        if not model_id or error.code == ErrorCode.WORKER_UNAVAILABLE:
            return []
        try:
            return self._deps.models.suggestions(error, model_id)
        except ServiceError:
            return []

    async def _session_config(self) -> ModelConfig:
        info = await self._deps.sessions.get(self.sid)
        return info.config

    async def _follow_worker(self) -> StreamClosed:
        """Open the stream on the model's worker and follow it to StreamClosed; a lost
        worker raises (ServiceError), a changed ASR config raises _Reopen."""
        models = self._deps.models
        asr = (await self._session_config()).asr
        self._asr = asr
        record = models.record(asr.model_id)
        if record.status != "loaded" and not self._recovering:
            self._status("loading", f"loading {asr.model_id}")
        record = await models.ensure_loaded(asr.model_id, self.sid)
        assert record.worker_id is not None
        link = models.link
        request_id = link.new_request_id()
        held = self.backlog.held()
        self._unsent.clear()  # all of it goes with the open
        message = StreamOpen(
            request_id=request_id,
            model_id=asr.model_id,
            encoding=self.format.encoding,
            sample_rate=self.format.sample_rate,
            options=live_options(asr),
            resume=self.ledger.resume,
            held_start_sample=self.backlog.start_stream_sample(),
            audio_ended=self.audio_ended,
            sid=self.sid,
        )
        payload = (held.payload,) if held.payload else ()
        models.begin_use(record)  # in use: the cache never evicts it under a stream
        try:
            with self._deps.open_streams.track(asr.model_id):
                async with link.stream(
                    record.worker_id, message, *payload, request_id=request_id
                ) as stream:
                    return await self._read(stream, request_id)
        finally:
            models.end_use(record, 0.0, True, count=False)
            record.last_used = models.clock()  # idle from the end of the stream on

    async def _read(self, stream: RequestStream, request_id: str) -> StreamClosed:
        writer = asyncio.create_task(self._write(stream, request_id), name=f"live audio {self.sid}")
        try:
            if self._recovering:
                self._recovering = False
                self._status("resumed", f"from segment {segment_id(self.ledger.next_index)}")
            elif not self._ready_said:
                self._ready_said = True
                assert self._asr is not None
                self._status("ready", self._asr.model_id)
            async for reply in stream:
                if isinstance(reply, CaptionPartial):
                    if self.ledger.accept_partial(reply):
                        self._newest_caption_ms = max(self._newest_caption_ms, reply.audio_ms)
                        self._say("asr.partial", partial_data(reply))
                        if "mt.partial" in self.accept:
                            self._newest_partial = reply
                            self._partial_waiting.set()
                elif isinstance(reply, CaptionFinal) and self.ledger.accept_final(reply):
                    self.recovery.progressed()
                    self.backlog.release_through(reply.end_sample)
                    self._newest_caption_ms = max(self._newest_caption_ms, reply.audio_ms)
                    self._say("asr.final", final_data(reply))
                    self._finals.put_nowait(reply)
                    if await self._asr_changed():
                        raise _Reopen()
            final = stream.final
            if not isinstance(final, StreamClosed):
                raise ServiceError(
                    ErrorCode.INTERNAL_ERROR, f"unexpected reply {type(final).__name__}"
                )
            return final
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _asr_changed(self) -> bool:
        """PUT .../models/config applies from the next segment on."""
        if self.audio_ended:
            return False  # the rest is being finalised; a new config would not hear it
        try:
            asr = (await self._session_config()).asr
        except ServiceError:
            return False  # deleted mid-stream: the stream finishes as it began
        return asr != self._asr

    async def _write(self, stream: RequestStream, request_id: str) -> None:
        """The audio that comes while the worker stream is open, in order, then StreamEnd."""
        chunk = 0
        end_sent = self.audio_ended  # the open already said so
        try:
            while True:
                self._audio_waiting.clear()
                while self._unsent:
                    payload = self._unsent.pop(0)
                    chunk += 1
                    await stream.send(StreamAudio(request_id=request_id, seq=chunk), payload)
                if self.audio_ended and not end_sent:
                    end_sent = True
                    await stream.send(StreamEnd(request_id=request_id))
                await self._audio_waiting.wait()
        except (ServiceError, RuntimeError) as exc:
            # The worker is gone or the request ended; the audio is still in the backlog,
            # so the reader's recovery re-sends it. Make sure the reader hears of it.
            if stream.is_open:
                stream.deliver(
                    ServiceError(
                        ErrorCode.WORKER_UNAVAILABLE,
                        f"Could not send audio to worker {stream.worker_id}: {exc}",
                        {"worker_id": stream.worker_id},
                    )
                )

    # ------------------------------------------------------------ translation

    async def _translate(self) -> None:
        """Each final's mt.final, in order."""
        while True:
            final = await self._finals.get()
            if final is None:
                return
            started = time.perf_counter()
            done = await self._translation(final.text, final.segment_index)
            if done is not None:
                self._say("mt.final", MtFinalData(**done))
                log.debug(
                    "live stream %s: mt.final in %.0f ms",
                    self.sid,
                    (time.perf_counter() - started) * 1000,
                )

    async def _translate_partials(self) -> None:
        """With `accept: ["mt.partial"]`: the newest partial of the open segment translated
        (older ones waiting meanwhile are skipped: only the newest is worth showing)."""
        while True:
            await self._partial_waiting.wait()
            self._partial_waiting.clear()
            partial = self._newest_partial
            if partial is None or not self.ledger.accept_partial(partial):
                continue
            done = await self._translation(partial.text, partial.segment_index, quiet=True)
            if done is not None and self.ledger.accept_partial(partial):
                self._say("mt.partial", MtPartialData(**done))

    async def _translation(
        self, text: str, index: int, *, quiet: bool = False
    ) -> dict[str, str] | None:
        """`text` in the session's target language (the fields of mt.final / mt.partial);
        None when there is nothing to send. A model that cannot serve the session's target
        is told once (not `quiet`), and the captions go on untranslated."""
        if not text.strip():
            return None
        try:
            mt = (await self._session_config()).mt
        except ServiceError:
            return None
        if self._mt_refused == (mt.model_id, mt.target_language):
            return None
        request = TranslateRequest(
            text=text, source_language=mt.source_language or self._speech_language()
        )
        try:
            answer = await self._deps.translation.translate(request, mt, self.sid)
        except ServiceError as error:
            if quiet:
                return None
            transient = error.code in _TRANSIENT_MT
            if not transient:
                self._mt_refused = (mt.model_id, mt.target_language)
            what = f"{segment_id(index)} is" if transient else "Finals are"
            self._say(
                "server.error",
                ServerErrorData(
                    code=error.code,
                    detail=f"{what} not translated into {mt.target_language} with "
                    f"{mt.model_id}: {error.message} Captions go on.",
                ),
            )
            return None
        (translated,) = answer.translations
        return {
            "text": translated.text,
            "src": translated.source_language,
            "tgt": answer.target_language,
            "segment_id": segment_id(index),
        }

    def _speech_language(self) -> str | None:
        """What the finals are in: the session's ASR language, else an English-only model's
        one language; None: detected per final."""
        asr = self._asr
        if asr is None:
            return None
        if asr.language is not None:
            return asr.language
        try:
            info = self._deps.models.entry(asr.model_id).info
        except ServiceError:
            return None
        if isinstance(info, ASRModelInfo) and len(info.languages) == 1:
            return info.languages[0]
        return None
