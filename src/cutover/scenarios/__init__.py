"""Seeded scenarios: deterministic timelines defined as data in fixtures/scenarios/*.toml."""
