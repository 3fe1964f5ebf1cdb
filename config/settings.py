"""Baton's one settings module.

The environment is read here, once, and nowhere else. Every default works on one machine
(SQLite in the repo root, RabbitMQ and Redis on 127.0.0.1, DEBUG on); production sets
DJANGO_DEBUG=false and must then also set DJANGO_SECRET_KEY, or start-up fails.
"""
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- Django core -------------------------------------------------------------------------------

# On by default so that a fresh clone runs as is; production turns it off explicitly.
DEBUG = env.bool("DJANGO_DEBUG", default=True)

# A built-in key is only acceptable for local development: without DEBUG a missing key is fatal.
SECRET_KEY = (
    env.str("DJANGO_SECRET_KEY", default="django-insecure-baton-local-development-only")
    if DEBUG
    else env.str("DJANGO_SECRET_KEY")
)

# Hosts this instance answers for; localhost covers a developer's machine and the tests.
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# Django's own apps for the admin, then the API, the beat scheduler's tables, then Baton's apps.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_celery_beat",
    "apps.plugins",
    "apps.definitions",
]

# The stock stack: the admin needs sessions, auth and messages.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# One URL configuration for the whole project.
ROOT_URLCONF = "config.urls"

# The entry point WSGI servers load.
WSGI_APPLICATION = "config.wsgi.application"

# Only the admin and DRF's browsable API render templates, all from installed apps.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------

# PostgreSQL in production and in integration runs (postgres://user@host:5432/name); an SQLite
# file in the repo root when nothing is set, so that one machine needs no database server.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock at BEGIN (no deadlock on lock upgrade), wait up to 20 s for it, and
    # WAL lets readers (web) run beside one writer (a worker) without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Seconds a connection is kept between requests (0: close after each); pooled set-ups raise it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# With persistent connections, check one still works before reusing it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)

# 64-bit primary keys everywhere: instance and job tables grow without bound.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Passwords, language, time, static files ---------------------------------------------------

# Django's standard validators for admin accounts.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Messages and the admin in English.
LANGUAGE_CODE = "en-us"

# The zone in which timer dates and cycles written without an offset, cron schedules and the
# admin's times are read; everything is stored in UTC (USE_TZ).
BATON_TIMEZONE = env.str("BATON_TIMEZONE", default="UTC")
TIME_ZONE = BATON_TIMEZONE
USE_TZ = True
USE_I18N = True

# The admin's CSS and JS.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Baton -------------------------------------------------------------------------------------

# Import paths of extra modules holding service-task plugins (Celery tasks), comma-separated.
BATON_PLUGIN_MODULES = tuple(m.strip() for m in env.list("BATON_PLUGIN_MODULES", default=[]) if m.strip())

# Largest BPMN file accepted, in bytes (5 MiB, the engine's default): bounds parser memory.
BATON_MAX_BPMN_BYTES = env.int("BATON_MAX_BPMN_BYTES", default=5 * 1024 * 1024)

# Wall-clock limit in seconds for one script or expression in the sandbox.
BATON_SCRIPT_TIME_LIMIT = env.float("BATON_SCRIPT_TIME_LIMIT", default=5.0)

# Engine steps one Celery task runs before handing the rest to a new task: keeps tasks short.
BATON_ENGINE_CHUNK_STEPS = env.int("BATON_ENGINE_CHUNK_STEPS", default=1000)

# Steps after which an instance is stopped as a runaway loop.
BATON_ENGINE_STEP_CAP = env.int("BATON_ENGINE_STEP_CAP", default=1_000_000)

# --- Celery (read by config/celery.py with namespace CELERY) ------------------------------------

# RabbitMQ carries the work; the default is a local broker with its stock guest account.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="amqp://guest:guest@127.0.0.1:5672//")
# Redis holds task results; BPMN state itself lives in the database, never here.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="redis://127.0.0.1:6379/0")
# JSON only: no pickle, so a message can never execute code, and payloads stay readable.
CELERY_ACCEPT_CONTENT = ["json"]
# Tasks are sent as JSON.
CELERY_TASK_SERIALIZER = "json"
# Results are stored as JSON.
CELERY_RESULT_SERIALIZER = "json"
# Results are only read back as JSON.
CELERY_RESULT_ACCEPT_CONTENT = ["json"]
# Acknowledge after the task ran, so a worker that dies mid-task leaves the message to redeliver.
CELERY_TASK_ACKS_LATE = True
# A task whose worker process was killed goes back to the queue instead of being acked as failed.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Reserve one message at a time: long tasks do not hold back others waiting on a busy worker.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The broker confirms each publish, so a task is not reported sent before RabbitMQ has it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
# Keep retrying the broker at worker start-up (also silences Celery's deprecation warning).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Hard limit in seconds: the worker process running a task is killed past it.
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# Soft limit in seconds: SoftTimeLimitExceeded is raised in the task, which can still clean up.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
# Beat's crontab schedules use the same zone as the engine's timers.
CELERY_TIMEZONE = BATON_TIMEZONE
# Periodic tasks are rows in the database (django_celery_beat), editable in the admin.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workers emit task events so that Flower can show them.
CELERY_WORKER_SEND_TASK_EVENTS = True
# A task is shown as sent as soon as it is published, not only once a worker picks it up.
CELERY_TASK_SEND_SENT_EVENT = True
