"""Every message that crosses a process boundary, as msgspec Structs. No I/O, and nothing
of `gateway` or `worker`.

- `protocol.api`: what clients see (HTTP bodies, WebSocket events, OpenAI shapes).
- `protocol.wire`: what the gateway and its workers say to each other.
- `protocol.errors`: the error codes and the error body, shared by both halves.
"""
