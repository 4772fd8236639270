"""Creating the SQLAlchemy engine from the twelve-factor ``DATABASE_URL``."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_ASYNC_DRIVER = "postgresql+asyncpg"
# What platforms hand out (Heroku's "postgres://", libpq's "postgresql://") and our own form.
_ACCEPTED_DRIVERS = frozenset({"postgres", "postgresql", _ASYNC_DRIVER})


def async_database_url(database_url: str) -> str:
    """The URL with the asyncpg driver, e.g. ``postgres://u@h/db`` -> ``postgresql+asyncpg://u@h/db``.

    libpq's ``sslmode`` becomes asyncpg's ``ssl``, which takes the same values, so that URLs
    given by managed databases work unchanged.
    """
    url = make_url(database_url)
    if url.drivername not in _ACCEPTED_DRIVERS:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {url.drivername}://")
    url = url.set(drivername=_ASYNC_DRIVER)
    if "sslmode" in url.query:
        query = dict(url.query)
        query.setdefault("ssl", query.pop("sslmode"))
        url = url.set(query=query)
    return url.render_as_string(hide_password=False)


def create_engine(database_url: str, *, pool_size: int, max_overflow: int) -> AsyncEngine:
    """An engine with a bounded pool.

    Connections are not pinged before each use (that is a round trip on every request); instead a
    connection error invalidates the whole pool, so after a database restart one request gets a 503
    and the next ones reconnect, and connections are recycled every half hour.
    """
    return create_async_engine(
        async_database_url(database_url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "application_name": "crm-service",
                # asyncpg prepares every statement; after a few runs PostgreSQL may switch a prepared
                # statement to a generic plan, which for a search that matches nothing walks the whole
                # sort index (400 ms at a million rows instead of 0.1 ms). Plan each execution for its values.
                "plan_cache_mode": "force_custom_plan",
            }
        },
    )
