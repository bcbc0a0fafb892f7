"""What the client hears of a worker's captions: each final once, in segment order, and
partials only of the segment still open; the worker's Structs as the protocol's payloads.

A stream re-opened on another worker (recovery, a config change) starts from the last
final the gateway has: the new worker numbers its next final as that final's
`resume.segment_index` says, so a final the gateway already has (one the old worker sent
just before it went away, arriving late) is recognised by its index and dropped.
"""

from __future__ import annotations

from protocol.api.live import AsrFinalData, AsrPartialData, WordTiming, segment_id
from protocol.wire.messages import CaptionFinal, CaptionPartial, LiveResume


class FinalLedger:
    def __init__(self) -> None:
        self.next_index = 0  # the segment index the next final the client gets has
        self.finals = 0
        # Where the last final left the stream: what a re-opened stream starts from.
        self.resume: LiveResume | None = None

    def accept_final(self, final: CaptionFinal) -> bool:
        """True: a final the client has not had (it is now counted)."""
        if final.segment_index < self.next_index:
            return False
        self.next_index = final.segment_index + 1
        self.finals += 1
        self.resume = final.resume
        return True

    def accept_partial(self, partial: CaptionPartial) -> bool:
        """A partial of a segment that is already final is stale."""
        return partial.segment_index >= self.next_index


def partial_data(partial: CaptionPartial) -> AsrPartialData:
    return AsrPartialData(
        text=partial.text,
        segment_id=segment_id(partial.segment_index),
        stable_text=partial.stable_text,
    )


def final_data(final: CaptionFinal) -> AsrFinalData:
    words = [
        WordTiming(
            word=word.text.strip(),
            start_ms=max(0, word.start_ms),
            end_ms=max(0, word.end_ms),
            confidence=round(word.probability, 4),
        )
        for word in final.words
    ]
    return AsrFinalData(
        text=final.text,
        segment_id=segment_id(final.segment_index),
        start_ms=max(0, final.start_ms),
        end_ms=max(0, final.end_ms),
        words=words or None,
    )
