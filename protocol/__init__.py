"""Every message that crosses a process boundary, as msgspec Structs. No I/O, and nothing
of `gateway` or `worker`.

- `protocol.api`: what clients see (HTTP bodies, WebSocket events, OpenAI shapes).
- `protocol.wire`: what the gateway and its workers say to each other.
- Shared by both halves, which never import each other: `protocol.errors` (the error codes
  and the error body), `protocol.vocabulary` (model kinds, tasks, compute types, devices,
  audio encodings and sample rates), `protocol.options` (each decoding option's range
  and default), `protocol.model_ids` (the check of ids that become paths) and
  `protocol.log_lines` (the log line format and the request id of the context).
"""
