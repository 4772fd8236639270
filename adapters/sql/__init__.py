"""PostgreSQL adapters: SQLAlchemy Core on asyncpg for the repositories, the unit of work and the actor lookup."""
