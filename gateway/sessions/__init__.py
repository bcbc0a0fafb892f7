"""Sessions: per-session model configuration, its validation and its persistence."""
