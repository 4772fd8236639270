"""Driving (HTTP) and driven (database, storage, crypto) adapters around the application core."""
