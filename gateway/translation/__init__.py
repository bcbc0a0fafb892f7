"""Translation as clients ask for it: any language code form, detection, long texts split
into sentences and joined back, confidence, cached results.
May import: gateway.models, gateway.catalog, protocol.
"""
