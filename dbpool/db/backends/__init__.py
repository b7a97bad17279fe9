"""Pooled ENGINE packages: ``postgresql`` and the historic ``postgresql_psycopg2``."""
