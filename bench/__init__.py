"""Benchmarks of the webhook intake and of crediting; each script says how to run it."""
