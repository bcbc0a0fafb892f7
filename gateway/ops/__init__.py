"""For operators: model health checks (a real small inference), start-up checks of the
LX_* defaults, and downloads ahead of a load (downloads.py). May import everything below
the routes except gateway.services.
"""
