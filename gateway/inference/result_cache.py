"""Recent inference results, keyed by what decides them: input bytes or text, model, and
every parameter that changes the output. Bounded: the least recently used goes first."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Generic, TypeVar

import msgspec

V = TypeVar("V")


def cache_key(model_id: str, payload: bytes | str, params: Any) -> str:
    digest = hashlib.sha256()
    digest.update(model_id.encode())
    digest.update(b"\0")
    digest.update(payload.encode() if isinstance(payload, str) else payload)
    digest.update(b"\0")
    digest.update(msgspec.json.encode(params))  # Structs encode field by field, in order
    return digest.hexdigest()


class ResultCache(Generic[V]):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        if self.capacity <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
