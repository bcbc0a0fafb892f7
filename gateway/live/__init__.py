"""Live captioning in the gateway: the parts of a caption stream that must outlive a worker,
as plain objects (the stream route and the worker link use them).

- `limits`: the stream's limits and what `server.welcome` announces.
- `errors`: `StreamError`, a `server.error` and whether the stream can go on.
- `frames`: client frames checked (hello first, audio format, sizes) into messages and audio.
- `outbox`: the session's numbered messages (`seq`, `t_mono_ms`, `id`) and the replay buffer
  a reconnecting client resumes from.
- `flow`: the client's window of unacknowledged messages; captions past it wait.
- `audio_backlog`: the audio no final covers yet, to re-open the stream on a new worker.
- `captions`: each final once and in order (by segment index), the payloads the client gets.
- `recovery`: whether a failed worker stream is re-opened, and after how long.
- `stream`: one stream of a session: opens it on the model's worker, follows its captions,
  re-opens it after a lost worker or an ASR config change, translates its finals.
- `connection`: one client WebSocket of a stream (reader, sender, heartbeats).
- `service`: the streams by session: attach, resume within the window, cancel.

The plain parts (limits, errors, frames, outbox, flow, audio_backlog, captions, recovery)
decide; stream, connection and service run them. May import: protocol, gateway.settings,
gateway.http, gateway.event_hub, and the services below (sessions, translation, models,
workers). Never numpy (the gateway does not), so audio stays in the client's encoding here.
"""
