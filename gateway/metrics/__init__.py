"""Prometheus metrics of one gateway (`GET /metrics`): a registry per app, never the global
one, so tests build several apps in one process.

What the gateway's state already holds (models, workers, queues the workers' heartbeats
report, subscribers, live streams) is read at scrape time by one collector (state.py);
what only happens (requests, inferences, loads, exits) is counted as it happens: HTTP
requests by an ASGI middleware (http_requests.py), inferences by the inference calls'
observer (inference.py), loads, evictions and worker exits from the events the gateway
publishes anyway (events.py). Figures from the workers come over the existing IPC
(heartbeats and replies): the workers are not a second scrape target.
May import everything below the routes except gateway.services.
"""
