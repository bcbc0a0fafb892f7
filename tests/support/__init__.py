"""Shared test support: speech fixtures and transcript scoring."""
