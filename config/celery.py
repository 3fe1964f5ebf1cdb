"""The Celery app: `celery -A config worker` finds it here."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("baton")

# Every Celery setting lives in config/settings.py, spelled CELERY_<UPPER_NAME>.
app.config_from_object("django.conf:settings", namespace="CELERY")

# Imports `<app>.tasks` for every installed app. Service-task plugins outside installed apps
# (tasks/, BATON_PLUGIN_MODULES) are imported by apps.plugins when Django starts.
app.autodiscover_tasks()
