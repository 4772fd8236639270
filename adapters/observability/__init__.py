"""Logs and traces of the running service."""
