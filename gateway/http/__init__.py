"""HTTP plumbing: the error envelope and its status codes, reading bodies within limits,
route declarations that parse their own parameters (endpoints.py, ws_endpoints.py), the
OpenAPI document generated from them, the uvicorn server that drains on SIGTERM, with its
connection bounds (connections.py) and descriptor reserve (file_descriptors.py); and the
middleware every request passes (middleware.py): request ids and the access log, the
cancelling of work whose client left (client_gone.py), the Host and Origin guards, CORS,
the bearer token, the WebSocket limits (decisions in access_rules.py). May import:
gateway.settings, protocol.
"""
