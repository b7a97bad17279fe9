"""Test helpers for dbpool (no Django): see ``dbpool.testing.pgcluster``."""
