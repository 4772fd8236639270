"""The side-by-side benchmark of the service against a bare asyncpg reference (issue 6): `make bench`."""
