"""Which work runs when: bounded lanes per model, batches formed from what waits together,
and the runners that hand a batch to its engine and answer each request.
May import: worker.engines, worker.models, worker.outbox, protocol.
"""
