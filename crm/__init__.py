"""The composition root: settings, the dependency-injection container, the app factory and the CLI."""
