"""A database that cannot be reached is a 503 for the caller, never an unexplained 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from domain.errors import ServiceUnavailable

DATABASE_UNAVAILABLE = "The database is not available; try again shortly."
STATEMENT_TIMED_OUT = "The database took too long to answer; try again shortly, or ask for less."
# Seconds to wait after a statement ran past CRM_DB_STATEMENT_TIMEOUT_SECONDS: the load that slowed it may pass.
TIMED_OUT_RETRY_AFTER = 2
# PostgreSQL's query_canceled: statement_timeout, or an operator's pg_cancel_backend.
_QUERY_CANCELED = "57014"
# What a lost or unreachable database raises: the driver's connection errors, wrapped or not.
_CONNECTION_ERRORS = (OSError, asyncpg.exceptions.ConnectionDoesNotExistError, asyncpg.exceptions.CannotConnectNowError)


def timed_out(error: BaseException) -> bool:
    """Whether PostgreSQL cancelled the statement (it ran past the statement timeout); the connection is fine."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    return isinstance(cause, asyncpg.exceptions.QueryCanceledError) or getattr(cause, "sqlstate", None) == (
        _QUERY_CANCELED
    )


def as_unavailable(error: BaseException) -> ServiceUnavailable:
    """The 503 for a database failure that ``is_database_unavailable`` recognised."""
    if timed_out(error):
        return ServiceUnavailable(STATEMENT_TIMED_OUT, retry_after=TIMED_OUT_RETRY_AFTER)
    return ServiceUnavailable(DATABASE_UNAVAILABLE)


def is_database_unavailable(error: BaseException) -> bool:
    if timed_out(error):
        return True
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
            raise as_unavailable(error) from error
        raise
