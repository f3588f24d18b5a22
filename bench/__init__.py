"""Benchmarks: scripts that print figures. They are not tests; docs/performance.md keeps the
figures measured on the reference machine."""
