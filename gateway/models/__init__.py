"""Models on workers: placement and memory admission, loads (de-duplicated, prioritised,
with events), unloads, the cache policy over time, restores after a worker restart and after
a gateway restart (loaded_state.py: the list in the state folder), what is
known of a model not loaded (availability: offline refusals, health before any check), the
gateway's record and measured figures of each model.
May import: gateway.workers, gateway.catalog, gateway.hardware, gateway.event_hub,
gateway.settings, protocol.
"""
