"""Service-task plugins: Celery tasks outside Baton, found by `registry.discover_plugins`."""
