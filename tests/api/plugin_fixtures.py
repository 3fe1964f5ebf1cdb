"""A plugin module named by BATON_PLUGIN_MODULES in tests/api/test_plugin_discovery.py."""
from celery import shared_task


@shared_task(
    name="fixtures.greet", bind=True, queue="plugins", max_retries=5, time_limit=30, soft_time_limit=20
)
def greet(self, name: str, greeting: str = "Hello", *, baton_job_id: str | None = None, **extra) -> str:
    """Greet `name`.

    Second paragraph of the docstring.
    """
    return f"{greeting}, {name}"


@shared_task(name="baton.fixture_internal")
def internal() -> None:
    """Named like one of Baton's internal tasks: never a plugin."""


@shared_task(name="celery.fixture_pretender")
def pretender() -> None:
    """Named like one of Celery's own tasks: never a plugin."""
