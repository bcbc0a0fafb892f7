"""The models one worker holds: where their files are (bundled, local, the Hugging Face
cache, or downloaded with byte progress), loading and unloading them, counting their use.
May import: worker.engines, worker.memory, protocol.
"""
