"""The OpenAI-compatible audio API: its multipart form, its response formats (subtitles),
the server-sent events of a streamed transcription, Whisper's language names.
May import: gateway.transcription, gateway.models, gateway.catalog, gateway.http, protocol.
"""
