"""Inference through the loaded models: load on demand, send the request to the model's
worker, count it in the model's figures; and the result cache the services share.
May import: gateway.models, gateway.workers, gateway.catalog, protocol.
"""
