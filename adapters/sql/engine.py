"""Creating the SQLAlchemy engine from the twelve-factor ``DATABASE_URL``."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ASYNC_DRIVER = "postgresql+asyncpg"
# What platforms hand out (Heroku's "postgres://", libpq's "postgresql://") and our own form.
_ACCEPTED_DRIVERS = frozenset({"postgres", "postgresql", _ASYNC_DRIVER})
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

CONNECTIONS_OPENED = Counter(
    "crm_db_connections_opened", "Database connections the pool opened; flat after warm-up when the pool fits."
)


def _is_local(url: URL) -> bool:
    # No host (or a host given as a folder in ?host=) is a Unix socket; loopback never leaves the machine.
    host = url.host or str(url.query.get("host", ""))
    return not host or host.startswith("/") or host in _LOOPBACK_HOSTS


def ssl_mode(url: URL) -> str:
    """The URL's ``sslmode`` (or asyncpg's ``ssl``), exactly; when it says nothing, ``disable`` for a
    database on this machine (a TLS attempt there is a wasted round trip on every new connection) and
    libpq's own default ``prefer`` for any other host."""
    given = url.query.get("sslmode", url.query.get("ssl"))
    if given is not None:
        return str(given)
    return "disable" if _is_local(url) else "prefer"


def async_database_url(database_url: str) -> str:
    """The URL with the asyncpg driver, e.g. ``postgres://u@h/db`` -> ``postgresql+asyncpg://u@h/db?ssl=disable``.

    libpq's ``sslmode`` becomes asyncpg's ``ssl``, which takes the same values, so that URLs
    given by managed databases work unchanged; see ``ssl_mode`` for a URL without one.
    """
    url = make_url(database_url)
    if url.drivername not in _ACCEPTED_DRIVERS:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {url.drivername}://")
    query = dict(url.query)
    mode = ssl_mode(url)
    query.pop("sslmode", None)
    query["ssl"] = mode
    url = url.set(drivername=_ASYNC_DRIVER, query=query)
    return url.render_as_string(hide_password=False)


def _count_connection(*_: Any) -> None:
    CONNECTIONS_OPENED.inc()


def create_engine(
    database_url: str,
    *,
    pool_size: int,
    max_overflow: int = 0,
    pool_timeout: float = 5.0,
    statement_timeout: float = 0.0,
) -> AsyncEngine:
    """An engine with a bounded pool that keeps its connections.

    Overflow connections are closed when they are returned, so any overflow means a connection opened
    per request under load; with ``max_overflow=0`` requests beyond the pool wait up to ``pool_timeout``
    seconds for a connection and then get a 503 (see ``adapters.sql.availability``).

    Connections are not pinged before each use (that is a round trip on every request); instead a
    connection error invalidates the whole pool, so after a database restart one request gets a 503
    and the next ones reconnect, and connections are recycled every half hour.

    ``statement_timeout`` (seconds, 0 for none) bounds every statement on the pool's connections: PostgreSQL
    cancels one that runs longer, the transaction rolls back, the caller gets a 503 (``adapters.sql.availability``)
    and the connection, still healthy, goes back to the pool. Set once per connection, it costs no round trip.
    """
    engine = create_async_engine(
        async_database_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "application_name": "crm-service",
                # asyncpg prepares every statement; after a few runs PostgreSQL may switch a prepared
                # statement to a generic plan, which for a search that matches nothing walks the whole
                # sort index (400 ms at a million rows instead of 0.1 ms). Plan each execution for its values.
                "plan_cache_mode": "force_custom_plan",
                "statement_timeout": str(round(statement_timeout * 1000)),
            }
        },
    )
    event.listen(engine.sync_engine.pool, "connect", _count_connection)
    return engine
