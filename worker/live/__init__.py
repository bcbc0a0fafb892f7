"""Live captioning inside the worker: each stream's state and the decisions that turn a
growing buffer of speech into partial and final captions.

- `pcm`: a client's raw frames (s16le or f32le, 8-48 kHz) to 16 kHz float32.
- `vad`: faster-whisper's bundled Silero VAD run incrementally, and where speech starts and
  ends (the hysteresis is plain code).
- `agreement`: LocalAgreement (Whisper-Streaming's idea): words two consecutive decodes
  agree on are committed and never change (plain code).
- `segmenter`: when a segment is final (end of speech, maximum length, end of audio), the
  prompt the next one gets, and which decoded words were made up (plain code).
- `decoder`: the one engine call, faster-whisper's `transcribe` on a buffer.
- `stream`: one stream's state; says whether it has audio worth decoding, runs one decode
  when asked, and can be rebuilt on another worker from the audio since its last final.

The worker serves streams, and decides when each one decodes, in worker.scheduling
(`live_streams`: StreamOpen/StreamAudio/StreamEnd in, captions out; `live_order`: which
stream decodes next). May import:
worker.engines, worker.models, protocol.
"""
