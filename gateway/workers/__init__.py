"""The worker processes and the gateway's end of the link to them.

The ZeroMQ link (a stream of replies per request: request_stream.py), remote workers over
CURVE, the pool of known workers and their states, the supervisor that spawns and restarts local
workers, heartbeats, exits, operator controls (drain, restart).
May import: gateway.settings, gateway.event_hub, gateway.hardware, protocol.
"""
