"""One contract suite for the repository, unit of work and actor lookup adapters."""
