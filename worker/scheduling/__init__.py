"""Which work runs when: bounded lanes per model and class of work (lanes.py), the rule that
picks the lane a free decode slot goes to (priorities.py), batches formed from what waits
together (batcher.py), the runners that hand a batch to its engine and answer each
request (inference.py), live caption streams served on the same decode slots
(live_streams.py), and the rule that picks which live stream decodes next (live_order.py).
May import: worker.live, worker.engines, worker.models, worker.outbox, protocol.
"""
