"""HTTP plumbing: the error envelope and its status codes, reading bodies within limits,
the OpenAPI document, the uvicorn server that drains on SIGTERM; and the middleware every
request passes (middleware.py): request ids and the access log, the Host and Origin guards,
CORS, the bearer token, the WebSocket limits (decisions in access_rules.py).
May import: gateway.settings, protocol.
"""
