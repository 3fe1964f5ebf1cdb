"""Built-in plugins, useful for trying a process and in tests."""
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="echo")
def echo(message: str) -> dict[str, str]:
    """Return `message` unchanged, as {"echo": message}."""
    return {"echo": message}


@shared_task(name="log")
def log(message: str) -> None:
    """Write `message` to the worker's log at INFO."""
    logger.info("%s", message)
