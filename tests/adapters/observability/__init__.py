"""Tests of the observability adapters."""
