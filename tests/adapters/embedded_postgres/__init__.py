"""Tests of the embedded PostgreSQL used by ``make run`` and, as a last resort, by the tests."""
