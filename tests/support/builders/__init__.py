"""Builders of small real models (translation and Whisper) for tests and benchmarks."""
