"""Targets: where the database and the RLM are (live, embedded, or a container)."""
