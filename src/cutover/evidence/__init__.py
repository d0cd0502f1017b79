"""Evidence: JUnit properties, the console table and verdict line; no pytest needed here."""
