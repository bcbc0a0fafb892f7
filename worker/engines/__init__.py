"""The inference libraries, behind thin engines: faster-whisper for speech, CTranslate2 +
SentencePiece for translation, py3langid for text language, PyAV for audio decoding.
Nothing here knows about sockets or queues. May import: protocol.
"""
