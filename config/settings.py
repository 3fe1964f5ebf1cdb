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
    # API tokens (`Authorization: Token KEY`; `manage.py drf_create_token USER` makes one).
    "rest_framework.authtoken",
    # The OpenAPI 3 schema of the REST API, and the self-hosted Swagger UI assets for /api/v1/docs/.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "apps.plugins",
    "apps.definitions",
    "apps.instances",
    # Timers, message and signal subscriptions, the message buffer (the BPMN events of instances).
    "apps.events",
    # Grants: who may read, start, operate, complete or deploy which process.
    "apps.access",
    # The REST API under /api/v1/ (and /healthz, /readyz at the root).
    "apps.api",
]

# The stock stack: the admin needs sessions, auth and messages.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The admin's and the API docs' CSS and JS, served by the web process itself (gunicorn serves no
    # files): compressed, cached for ever under hashed names, from STATIC_ROOT after collectstatic.
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No statement waits for a lock or runs for long: a worker that would, fails fast and the
    # task retries the transaction (not a business retry) instead of piling up behind it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={env.int('BATON_DB_LOCK_TIMEOUT_MS', default=5000)} "
        f"-c statement_timeout={env.int('BATON_DB_STATEMENT_TIMEOUT_MS', default=30000)}"
    )
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
# While developing, static files are served straight from the apps (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
# Hashed, compressed copies when DEBUG is off (collectstatic writes them; the Dockerfile runs it);
# plain files while developing, so runserver and the tests need no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

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

# The http.request plugin (tasks/http.py). Longest timeout a process may ask for, in seconds.
BATON_HTTP_MAX_TIMEOUT = env.float("BATON_HTTP_MAX_TIMEOUT", default=60.0)
# Largest response body http.request accepts, in bytes (1 MiB); a bigger one is an error.
BATON_HTTP_MAX_RESPONSE_BYTES = env.int("BATON_HTTP_MAX_RESPONSE_BYTES", default=1024 * 1024)
# Redirects http.request follows; every target is checked like the first URL.
BATON_HTTP_MAX_REDIRECTS = env.int("BATON_HTTP_MAX_REDIRECTS", default=5)
# Also refuse loopback and private addresses (link-local and cloud metadata ones always are).
BATON_HTTP_REFUSE_PRIVATE_NETWORKS = env.bool("BATON_HTTP_REFUSE_PRIVATE_NETWORKS", default=False)
# Comma-separated CIDRs http.request may reach even when the rules above refuse them.
BATON_HTTP_ALLOWED_NETWORKS = tuple(n.strip() for n in env.list("BATON_HTTP_ALLOWED_NETWORKS", default=[]) if n.strip())

# --- Email (the email.send plugin, through Django's mail backend) -------------------------------

# The console backend prints messages on one machine; production sets the SMTP backend.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# The SMTP server, for django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
# Its port: 25, 587 with STARTTLS, 465 with implicit TLS.
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# SMTP login; empty means no authentication.
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
# SMTP password, only ever from the environment.
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
# STARTTLS on a plain connection (port 587).
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Implicit TLS from the start (port 465); exclusive with EMAIL_USE_TLS.
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Seconds before an unresponsive SMTP server is an error (Django waits forever by default).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
# Sender of email.send when a process gives no from_email.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="baton@localhost")

# Largest single variable value (JSON bytes) accepted at start, completion, plugin result and
# variable change: an instance's data lives in rows, but every step reads them.
BATON_MAX_VARIABLE_BYTES = env.int("BATON_MAX_VARIABLE_BYTES", default=1024 * 1024)

# Attempts a service task gets in total, unless its plugin or its element says otherwise.
BATON_JOB_ATTEMPTS = env.int("BATON_JOB_ATTEMPTS", default=3)
# Exponential backoff between attempts: first delay and cap, in seconds (with jitter).
BATON_RETRY_BACKOFF = env.float("BATON_RETRY_BACKOFF", default=2.0)
BATON_RETRY_BACKOFF_MAX = env.float("BATON_RETRY_BACKOFF_MAX", default=600.0)

# A dispatched job that no worker started within this many seconds is re-dispatched.
BATON_DISPATCH_LEASE_SECONDS = env.int("BATON_DISPATCH_LEASE_SECONDS", default=300)
# A started job whose lease ran out (past the hard time limit plus a margin) is taken as lost.
BATON_JOB_LEASE_SECONDS = env.int("BATON_JOB_LEASE_SECONDS", default=env.int("CELERY_TASK_TIME_LIMIT", default=300) + 60)
# Variables (and nested keys) whose names match this are masked in the admin, the API and logs.
BATON_SECRET_PATTERN = env.str("BATON_SECRET_PATTERN", default="password|passwd|token|secret|authorization|api[_-]?key")

# Call activities nest at most this deep (a process that calls itself stops there, with an incident).
BATON_MAX_CALL_DEPTH = env.int("BATON_MAX_CALL_DEPTH", default=20)

# Longest run of consecutive service tasks sent ahead as one Celery chain.
BATON_CHAIN_LENGTH = env.int("BATON_CHAIN_LENGTH", default=10)
# Seconds a recorded event may wait unapplied before the reconciler sends its instance a step again.
BATON_PENDING_EVENT_GRACE_SECONDS = env.int("BATON_PENDING_EVENT_GRACE_SECONDS", default=30)
# How often the reconciler may re-dispatch one job before it opens an incident instead.
BATON_MAX_REDISPATCHES = env.int("BATON_MAX_REDISPATCHES", default=5)

# --- Timers, messages and signals (apps/events) -------------------------------------------------

# Seconds a message nobody waits for yet is kept for the first subscription that matches it (a
# reply that arrives before its catch event is committed is never lost); a correlation may ask
# for less or more (ttl), 0 for none.
BATON_MESSAGE_TTL = env.int("BATON_MESSAGE_TTL", default=3600)
# Seconds a message is remembered after its TTL ran out: a repeated message_id gets the first
# answer until then, and the admin shows it.
BATON_MESSAGE_RETENTION = env.int("BATON_MESSAGE_RETENTION", default=24 * 60 * 60)
# Shortest period, in seconds, of a timer cycle without end (R/PT..., cron): faster ones are refused
# at deploy, because they would create tokens without bound.
BATON_MIN_TIMER_INTERVAL = env.float("BATON_MIN_TIMER_INTERVAL", default=1.0)
# Timers one sweep claims per transaction; the sweep claims batch after batch for about 5 s.
BATON_TIMER_BATCH = env.int("BATON_TIMER_BATCH", default=100)
# Seconds after which a timer claimed by a sweeper that died is claimed again by another.
BATON_TIMER_CLAIM_LEASE = env.int("BATON_TIMER_CLAIM_LEASE", default=30)

# --- REST API (apps/api) ------------------------------------------------------------------------

# Token authentication first, so that an anonymous call is answered 401 with `WWW-Authenticate:
# Token`; sessions serve the browsable API and the docs page after an admin login. Every endpoint
# needs an authenticated user; grants (apps.access) decide the rest. One exception handler gives
# every error one shape. Throttles count in the shared cache (CACHES below).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.UserThrottle", "apps.api.throttling.ScopedActionThrottle"],
    # Requests per user: "user" for every call, the others for the calls of that scope (on top).
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("BATON_API_RATE_USER", default="3000/min"),
        "deploy": env.str("BATON_API_RATE_DEPLOY", default="60/min"),
        "start": env.str("BATON_API_RATE_START", default="1200/min"),
        "command": env.str("BATON_API_RATE_COMMAND", default="1200/min"),
    },
}

# The schema at /api/v1/schema/ and the Swagger UI at /api/v1/docs/, its assets served from our own
# static files (drf-spectacular-sidecar): no CDN, so the page works without internet access.
SPECTACULAR_SETTINGS = {
    "TITLE": "Baton API",
    "DESCRIPTION": "Deploy BPMN 2.0 models, start and operate process instances, work on user tasks.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs page need a logged-in user, like every other endpoint.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the error responses it can give, all in the one error shape.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "apps.api.schema.add_error_responses"],
}

# The shared cache: Redis, so that throttle counts hold across web processes (database 1; Celery
# results use database 0).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("BATON_CACHE_URL", default="redis://127.0.0.1:6379/1"),
        # Fail fast when Redis is away: the API answers 503 instead of hanging.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    },
}
# The embedded single-machine stack has no Redis: BATON_CACHE_URL=locmem:// keeps the cache in each
# process's memory (throttle counts are then per web process).
if CACHES["default"]["LOCATION"] == "locmem://":
    # Django's local-memory cache, which takes no location.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Seconds an Idempotency-Key is remembered (per user): a retry within it gets the first answer.
BATON_IDEMPOTENCY_TTL = env.int("BATON_IDEMPOTENCY_TTL", default=24 * 60 * 60)

# Request bodies the API reads: a BPMN upload (up to BATON_MAX_BPMN_BYTES) plus room for the
# multipart envelope. Bigger bodies are answered 413 with the error shape, before being read.
DATA_UPLOAD_MAX_MEMORY_SIZE = BATON_MAX_BPMN_BYTES + 64 * 1024
# Uploaded files up to the same size stay in memory (no temporary file for a BPMN model).
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- Celery (read by config/celery.py with namespace CELERY) ------------------------------------

# RabbitMQ carries the work; the default is a local broker with its stock guest account.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="amqp://guest:guest@127.0.0.1:5672//")
# Redis holds task results; BPMN state itself lives in the database, never here.
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="redis://127.0.0.1:6379/0")
# Redis for the lock that lets only one timer sweep run at a time (an overlapping run exits at
# once); the result backend's by default. Empty: no lock (claims in the database keep timers
# correct anyway, the lock only saves work).
BATON_LOCK_URL = env.str("BATON_LOCK_URL", default=CELERY_RESULT_BACKEND if CELERY_RESULT_BACKEND.startswith(
    ("redis://", "rediss://")) else "")
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
# The embedded single-machine stack (scripts/server when no broker answers): kombu's filesystem
# transport keeps each message as a file in one folder that every process shares, so the web
# process, the workers, beat and Flower need no broker server. scripts/server creates the folders.
if CELERY_BROKER_URL.startswith("filesystem://"):
    # That transport, with each message written whole before a consumer can see it (kombu #1551).
    CELERY_BROKER_TRANSPORT = "config.embedded:Transport"
    # Messages are written to and read from the same folder (one queue store for all processes).
    _BROKER_FOLDER = BASE_DIR / ".baton" / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Where producers write messages.
        "data_folder_out": str(_BROKER_FOLDER / "messages"),
        # Where consumers read them: the same folder.
        "data_folder_in": str(_BROKER_FOLDER / "messages"),
        # Exchange-to-queue bindings, shared so that fanout (control, ping) reaches every process.
        "control_folder": str(_BROKER_FOLDER / "control"),
        # Seconds between looks at an empty folder (the default, 1 s, makes every step slower).
        "polling_interval": 0.1,
    }
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

# Baton's queues, each durable. Continuations of running instances are never starved by a flood of
# starts, and plugins (which may be slow) run apart from engine steps. `celery -A config worker`
# with no -Q serves all of them; a plugin can have a queue of its own (baton:queue on its element).
from kombu import Exchange, Queue  # noqa: E402

CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True)
    for name in ("baton.engine", "baton.starts", "baton.scripts", "baton.plugins", "baton.maintenance",
                 "baton.timers")
) + tuple(
    Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True)
    for name in env.list("BATON_EXTRA_QUEUES", default=[])
)
# Anything published without a queue (a plugin's own .delay()) goes to the plugins queue.
CELERY_TASK_DEFAULT_QUEUE = "baton.plugins"
# Baton's own tasks go to their queues whoever sends them.
CELERY_TASK_ROUTES = {
    "baton.instance.step": {"queue": "baton.engine"},
    "baton.outbox.relay": {"queue": "baton.maintenance"},
    "baton.jobs.retry": {"queue": "baton.maintenance"},
    "baton.jobs.reconcile": {"queue": "baton.maintenance"},
    # The timer sweep has a queue of its own: a backlog of other maintenance never delays a timer.
    "baton.timers.sweep": {"queue": "baton.timers"},
    # A message or signal thrown by an instance is correlated or broadcast as an engine continuation.
    "baton.message.correlate": {"queue": "baton.engine"},
    "baton.signal.broadcast": {"queue": "baton.engine"},
}
# Periodic work run by `celery -A config beat`: installed into django_celery_beat's tables, so
# each is visible and pausable in the admin. Sweeps are cheap when there is nothing to do.
CELERY_BEAT_SCHEDULE = {
    "baton-outbox-relay": {"task": "baton.outbox.relay", "schedule": env.float("BATON_RELAY_EVERY", default=2.0),
                           "options": {"expire_seconds": 10}},
    "baton-jobs-retry": {"task": "baton.jobs.retry", "schedule": env.float("BATON_RETRY_SWEEP_EVERY", default=1.0),
                         "options": {"expire_seconds": 10}},
    "baton-jobs-reconcile": {"task": "baton.jobs.reconcile",
                             "schedule": env.float("BATON_RECONCILE_EVERY", default=30.0), "options": {"expire_seconds": 60}},
    # Fires due timers every second. django-celery-beat reads `expire_seconds` (not `expires`):
    # a run not started within 2 s is dropped, so its queue never holds more than two runs, and a
    # Redis lock (BATON_LOCK_URL) makes a run that overlaps another exit at once.
    "baton-timers-sweep": {"task": "baton.timers.sweep", "schedule": 1.0, "options": {"expire_seconds": 2}},
}
