"""Read-only adapters: they read and never decide."""
