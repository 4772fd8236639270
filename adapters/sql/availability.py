"""A database that cannot be reached is a 503 for the caller, never an unexplained 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from domain.errors import ServiceUnavailable

DATABASE_UNAVAILABLE = "The database is not available; try again shortly."
# What a lost or unreachable database raises: the driver's connection errors, wrapped or not.
_CONNECTION_ERRORS = (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.CannotConnectNowError)


def is_database_unavailable(error: BaseException) -> bool:
    if isinstance(error, PoolTimeout):
        # Every pooled connection stayed busy for CRM_DB_POOL_TIMEOUT_SECONDS: shed the request.
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error.orig, _CONNECTION_ERRORS)
    return isinstance(error, _CONNECTION_ERRORS)


@contextmanager
def unavailable_database_as_503() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if is_database_unavailable(error):
            raise ServiceUnavailable(DATABASE_UNAVAILABLE) from error
        raise
