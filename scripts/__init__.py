"""Development scripts (``make lint`` runs ``python -m scripts.lint_migrations``)."""
