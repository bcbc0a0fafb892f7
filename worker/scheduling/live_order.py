"""Which live stream of a model decodes next when one of its decode slots takes a live decode.

Each stream not already decoding is a `Candidate`. Only eligible candidates take part: a
final is due, or at least `cadence_ms` of speech no decode has heard waits (the stream's
`partial_every_ms`), or its audio ended and something is left to decode (`draining`).
Among them:

- a stream passed over `AGE_AFTER` picks in a row while eligible goes first (the one passed
  over most), so no stream starves behind streams that always have more to decode;
- else a due final (it ends a caption, the most visible delay), the longest-waiting first;
- else a draining stream (its client waits for the stream's end);
- else the stream with the most undecoded speech (the furthest behind its audio).

`passed_over_after` gives every candidate's new count after a pick: 0 for the chosen one,
one more for every other eligible one, unchanged for the rest. Plain code, no threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# A stream that lost this many picks in a row while eligible goes next.
AGE_AFTER = 3


@dataclass(frozen=True)
class Candidate:
    key: str  # the stream's request id
    final_due: bool
    undecoded_ms: int
    cadence_ms: int
    draining: bool = False  # the audio ended and the stream still wants a decode
    passed_over: int = 0  # picks it lost in a row while eligible

    @property
    def eligible(self) -> bool:
        return self.final_due or self.draining or self.undecoded_ms >= self.cadence_ms


def choose(candidates: Sequence[Candidate], age_after: int = AGE_AFTER) -> Candidate | None:
    """The stream that decodes next (None: no candidate is eligible)."""
    eligible = [c for c in candidates if c.eligible]
    if not eligible:
        return None
    starving = [c for c in eligible if c.passed_over >= age_after]
    if starving:
        return max(starving, key=lambda c: (c.passed_over, c.final_due, c.undecoded_ms))
    finals = [c for c in eligible if c.final_due]
    if finals:
        return max(finals, key=lambda c: (c.passed_over, c.undecoded_ms))
    draining = [c for c in eligible if c.draining]
    if draining:
        return max(draining, key=lambda c: (c.passed_over, c.undecoded_ms))
    return max(eligible, key=lambda c: (c.undecoded_ms, c.passed_over))


def passed_over_after(candidates: Sequence[Candidate], chosen: Candidate) -> dict[str, int]:
    """Each candidate's count of picks lost in a row, once `chosen` was picked."""
    counts: dict[str, int] = {}
    for candidate in candidates:
        if candidate.key == chosen.key:
            counts[candidate.key] = 0
        elif candidate.eligible:
            counts[candidate.key] = candidate.passed_over + 1
        else:
            counts[candidate.key] = candidate.passed_over
    return counts
