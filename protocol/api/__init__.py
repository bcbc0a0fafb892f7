"""The public API: HTTP request and response bodies, the WebSocket event envelope and each
event's data, the OpenAI-compatible shapes. Never imports `protocol.wire`: what clients
see does not change when the engine wire does.
"""
