"""Tests of the PostgreSQL adapters beyond the contract suite."""
