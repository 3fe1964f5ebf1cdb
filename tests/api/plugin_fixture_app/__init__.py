"""A third-party Django app whose `tasks` module holds a plugin (installed only by the tests)."""
