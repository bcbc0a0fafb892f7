"""For operators: model health checks (a real small inference) and start-up checks of the
LX_* defaults. May import everything below the routes except gateway.services.
"""
