"""Windows of concurrent transcriptions decoded together, beneath faster-whisper's own loop.

Each transcription keeps faster-whisper's per-request decode loop (temperature fallback,
prompts, timestamps, word alignment: all exactly faster-whisper's). This wrapper stands in
for its CTranslate2 model (`WhisperModel.model`): every call waits for one of the model's
`slots` (its replicas, `num_workers`) in the order decode_batches.py gives (the class of
work's priority, then the oldest transcription, with aging), so interactive work goes
before long files at every window; and, with `max_batch_size` over 1, calls from other
request threads that wait at the same time with an equal key share one CTranslate2 call,
stacked along the batch axis and split back.

When calls may share a CTranslate2 call (their key):

- `generate` with deterministic decoding (greedy or beam search) and equal options, whose
  prompts put `<|startoftranscript|>` at the same position (CTranslate2 requires it) with
  equally many tokens after it. Each item of a batch decodes exactly as it would alone
  (checked on the fixtures: same tokens, same scores). Sampling (faster-whisper's fallback
  temperatures above 0) runs alone: a batch would draw other random numbers, so results
  would change.
- `encode` only where `batch_encode` is on. Stacking windows saves little on a CPU (one
  30 s window already fills the GEMMs), but without it the windows of transcriptions that
  go oldest first never wait together, so their decoder calls could not meet either.
- anything else (`align`, `detect_language`) runs alone, through the same slots.

`batch_size` of a transcription (through `decode_stats`) is the largest batch any of its
calls ran in.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from worker.engines.decode_batches import WaitingCall, take_next_batch


@dataclass
class DecodeStats:
    """What one transcription's model calls saw."""

    calls: int = 0
    largest_batch: int = 0


@dataclass(frozen=True)
class _CallContext:
    priority: int
    stats: DecodeStats
    order: int  # when its transcription began: older transcriptions' calls go first


# One order for transcriptions and for calls made outside any: their arrival.
_arrivals = itertools.count()


_context: contextvars.ContextVar[_CallContext | None] = contextvars.ContextVar(
    "whisper_call_context", default=None
)


@contextlib.contextmanager
def decode_stats(priority: int) -> Iterator[DecodeStats]:
    """The calls this thread makes inside the block wait with `priority`; their figures
    land in the stats it yields."""
    stats = DecodeStats()
    token = _context.set(_CallContext(priority, stats, next(_arrivals)))
    try:
        yield stats
    finally:
        _context.reset(token)


@dataclass(eq=False)
class _Call:
    kind: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    stats: DecodeStats | None
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    run_alone: Callable[[], Any] | None = field(default=None)


class BatchingWhisper:
    """A drop-in for `ctranslate2.models.Whisper` under `faster_whisper.WhisperModel`."""

    def __init__(
        self, model: Any, *, slots: int, max_batch_size: int, batch_encode: bool, sot_id: int
    ) -> None:
        self._model = model
        self._slots = max(slots, 1)
        self._max_batch_size = max(max_batch_size, 1)
        self._batch_encode = batch_encode
        self._sot_id = sot_id
        self._on_cpu = str(model.device) == "cpu"
        self._cond = threading.Condition()
        self._waiting: list[WaitingCall[_Call]] = []
        self._running = 0

    def __getattr__(self, name: str) -> Any:
        # device, is_multilingual, n_mels, ...: the model's own.
        return getattr(self._model, name)

    # ------------------------------------------------------------ what faster-whisper calls

    def encode(self, features: Any, to_cpu: bool = False) -> Any:
        key: Hashable | None = None
        if self._batch_encode and self._max_batch_size > 1 and len(features.shape) == 3:
            key = ("encode", to_cpu, tuple(features.shape[1:]))
        return self._call("encode", key, (features,), {"to_cpu": to_cpu})

    def generate(self, features: Any, prompts: list[list[int]], **kwargs: Any) -> Any:
        key = None
        if self._max_batch_size > 1:
            key = generate_key(prompts, kwargs, self._sot_id)
        return self._call("generate", key, (features, prompts), kwargs)

    def align(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("align", None, args, kwargs)

    def detect_language(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("detect_language", None, args, kwargs)

    # ------------------------------------------------------------ waiting and running

    def _call(
        self, kind: str, key: Hashable | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        context = _context.get()
        call = _Call(kind, args, kwargs, None if context is None else context.stats)
        waiting = WaitingCall(
            item=call,
            key=key,
            priority=0 if context is None else context.priority,
            # Oldest transcription first (not oldest call): each runs nearly to its end
            # before newer ones, as if alone, while calls that meet still share batches.
            seq=next(_arrivals) if context is None else context.order,
        )
        with self._cond:
            self._waiting.append(waiting)
            while not call.done:
                if self._running < self._slots and self._waiting:
                    # Any waiting thread runs the next batch, its own call in it or not.
                    batch = [w.item for w in take_next_batch(self._waiting, self._max_batch_size)]
                    self._running += 1
                    self._cond.release()
                    try:
                        self._run(batch)
                    finally:
                        self._cond.acquire()
                        self._running -= 1
                        self._cond.notify_all()
                else:
                    self._cond.wait()
        if call.error is not None:
            raise call.error
        return call.result

    def _run(self, batch: list[_Call]) -> None:
        try:
            if len(batch) == 1:
                head = batch[0]
                head.result = getattr(self._model, head.kind)(*head.args, **head.kwargs)
            elif batch[0].kind == "encode":
                self._encode_together(batch)
            else:
                self._generate_together(batch)
        except BaseException as exc:  # every caller hears the failure of its batch
            for call in batch:
                call.error = exc
        for call in batch:
            if call.stats is not None:
                call.stats.calls += 1
                call.stats.largest_batch = max(call.stats.largest_batch, len(batch))
            # Last: its caller may see it (under the lock) before this batch's notify.
            call.done = True

    def _encode_together(self, batch: list[_Call]) -> None:
        import ctranslate2

        stacked = np.concatenate([np.asarray(call.args[0]) for call in batch])
        to_cpu = bool(batch[0].kwargs.get("to_cpu")) or not self._on_cpu
        output = self._model.encode(ctranslate2.StorageView.from_array(stacked), to_cpu=to_cpu)
        rows = np.asarray(output)
        for index, call in enumerate(batch):
            call.result = ctranslate2.StorageView.from_array(
                np.ascontiguousarray(rows[index : index + 1])
            )

    def _generate_together(self, batch: list[_Call]) -> None:
        import ctranslate2

        stacked = np.concatenate([self._host_array(call.args[0]) for call in batch])
        prompts = [call.args[1][0] for call in batch]
        results = self._model.generate(
            ctranslate2.StorageView.from_array(stacked), prompts, **batch[0].kwargs
        )
        for call, result in zip(batch, results, strict=True):
            call.result = [result]

    def _host_array(self, features: Any) -> Any:
        if str(features.device) != "cpu":
            import ctranslate2

            features = features.to_device(ctranslate2.Device.cpu)
        return np.asarray(features)


def generate_key(prompts: list[list[int]], kwargs: dict[str, Any], sot_id: int) -> Hashable | None:
    """What `generate` calls must share to be decoded as one batch (the module docstring
    says why); None: the call runs alone."""
    if len(prompts) != 1 or kwargs.get("asynchronous"):
        return None
    if "sampling_temperature" in kwargs or kwargs.get("sampling_topk", 1) != 1:
        return None  # random draws: a batch would change them
    prompt = prompts[0]
    if sot_id not in prompt:
        return None
    sot_at = prompt.index(sot_id)
    try:
        options = _frozen(kwargs)
    except _Unhashable:
        return None
    return ("generate", sot_at, len(prompt) - sot_at, options)


class _Unhashable(Exception):
    pass


def _frozen(value: Any) -> Hashable:
    """A hashable copy of keyword arguments (lists as tuples); raises _Unhashable."""
    if isinstance(value, dict):
        return tuple((name, _frozen(value[name])) for name in sorted(value))
    if isinstance(value, list | tuple):
        return tuple(_frozen(part) for part in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise _Unhashable(type(value).__name__)
