"""HTTP plumbing: the error envelope and its status codes, reading bodies within limits,
the OpenAPI document, the uvicorn server that drains on SIGTERM. May import: protocol.
"""
