from celery import shared_task


@shared_task(name="fixture_app.ping")
def ping() -> str:
    return "pong"
