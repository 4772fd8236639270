"""Alembic migrations of the CRM's PostgreSQL schema (see ``adapters/sql/migrate.py`` to run them from code)."""
