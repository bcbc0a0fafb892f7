"""HTTP plumbing: the error envelope and its status codes, reading bodies within limits,
route declarations that parse their own parameters (endpoints.py, ws_endpoints.py), the
OpenAPI document generated from them, the uvicorn server that drains on SIGTERM.
May import: protocol.
"""
