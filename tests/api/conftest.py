"""Fixtures for tests/api (Django on SQLite, no services needed)."""
from __future__ import annotations

import pytest

from apps.definitions.engines import engine_cache_clear


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Each test's definitions get ids a rolled-back earlier test may have used: build anew."""
    engine_cache_clear()
    yield
    engine_cache_clear()
