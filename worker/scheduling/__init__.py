"""Which work runs when: bounded lanes per model and class of work (lanes.py), the rule that
picks the lane a free decode slot goes to (priorities.py), batches formed from what waits
together (batcher.py), and the runners that hand a batch to its engine and answer each
request (inference.py). May import: worker.engines, worker.models, worker.outbox, protocol.
"""
