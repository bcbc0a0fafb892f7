"""Long texts split into sentences that fit a model's input, and joined back after.

Translation models take a few hundred tokens at most (NLLB: 512). A text longer than the
budget is cut at sentence ends, sentences are packed into chunks under the budget, and
each chunk's translation is joined back in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence ends: Latin/Cyrillic/Greek punctuation followed by a space, or the CJK and
# Arabic-script full stops and question marks, which need none.
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])\s+|(?<=[\u3002\uff01\uff1f\u061f\u06d4])")
_NO_SPACE_SCRIPTS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Chunks:
    """Where each original text's chunks are in the flat list sent to the model."""

    texts: list[str]
    owners: list[int]  # owners[i]: index of the original text chunk i belongs to


def split_sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def chunk_texts(texts: list[str], budget_chars: int) -> Chunks:
    flat: list[str] = []
    owners: list[int] = []
    for index, text in enumerate(texts):
        if len(text) <= budget_chars:
            flat.append(text)
            owners.append(index)
            continue
        current = ""
        for sentence in split_sentences(text):
            joined = f"{current} {sentence}" if current else sentence
            if current and len(joined) > budget_chars:
                flat.append(current)
                owners.append(index)
                current = sentence
            else:
                current = joined
        if current:
            flat.append(current)
            owners.append(index)
    return Chunks(flat, owners)


def join_chunks(chunks: Chunks, translated: list[str], count: int) -> list[str]:
    """Put translated chunks back together, one string per original text."""
    parts: list[list[str]] = [[] for _ in range(count)]
    for owner, text in zip(chunks.owners, translated, strict=True):
        parts[owner].append(text)
    return [_join(pieces) for pieces in parts]


def _join(pieces: list[str]) -> str:
    if len(pieces) < 2:
        return "".join(pieces)
    glue = "" if _NO_SPACE_SCRIPTS.search(pieces[0]) else " "
    return glue.join(pieces)
