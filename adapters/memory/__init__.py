"""In-memory adapters of the repositories, unit of work and actor lookup: for tests and demos.

They follow the same contract as the PostgreSQL adapters (one test suite runs against both).
"""
