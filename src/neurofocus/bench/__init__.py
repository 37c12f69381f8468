"""Benchmarks that print tables: seeded synthetic scenes and light-field sweeps, scored against ground truth."""
