"""Criteria: pure functions from a measurement and the profile to a Result. No I/O here."""
