"""Transcription as clients ask for it: the audio upload (sniffed: non-audio
bytes are refused before any work is queued; its bytes held within the upload budget,
upload_budget.py), the options a request may set over
the session's, and the service that builds the response from the worker's result.
May import: gateway.models, gateway.catalog, gateway.http, protocol.
"""
