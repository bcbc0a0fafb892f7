"""The inference libraries, behind thin engines: faster-whisper for speech, CTranslate2 +
SentencePiece for translation, py3langid for text language, PyAV for audio decoding (in
windows, audio_windows.py; a long transcription window by window, windowed.py).
Nothing here knows about sockets or request queues; the one wait is beneath faster-whisper,
where the model calls of concurrent transcriptions take turns and share batches
(batched_whisper.py, by the rule of decode_batches.py). May import: protocol, and
worker.decode_plan (how a model runs its decodes).
"""
