"""The OpenAI-compatible audio API: its multipart form, its response formats (subtitles),
Whisper's language names. May import: gateway.transcription, gateway.models,
gateway.catalog, gateway.http, protocol.
"""
