"""The gateway: one Starlette + uvicorn process that serves the HTTP and WebSocket API and
relays every load, unload and inference over ZeroMQ to one worker process per device.

Top level: `app` (create_app), `services` (the long-lived parts the routes reach),
`settings` (LX_* read once), `event_hub` (WebSocket fan-out). Sub-packages, from the top
down; each imports only those below it (enforced by import-linter, see pyproject.toml):

    routes/                          thin HTTP and WebSocket handlers
    ops/  openai/                    health checks and start-up checks; the OpenAI-compatible API
    transcription/  translation/  sessions/
    inference/                       load on demand, call the model's worker, result cache
    models/                          lifecycle of models on workers, inference calls
    workers/  catalog/               the worker processes and the link; what models exist
    hardware/  http/                 this machine (NVML, psutil); HTTP plumbing

It never imports `worker` nor any inference library: it starts fast and stays small.
"""
