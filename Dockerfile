# The one image docker-compose.yml runs as web (gunicorn), workers, beat, Flower and init.
# The Python the tests run on; tests/api/test_docker_compose.py checks the two agree.
FROM python:3.11-slim

# Logs straight to the container's output; scripts/server uses this Python instead of making .venv.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BATON_PYTHON=python

WORKDIR /app

# The runtime requirements only (every package pinned), in a layer of their own.
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements/base.txt

# Baton itself: the Django project, its apps, the engine, the plugins and the examples.
COPY manage.py ./
COPY config/ config/
COPY apps/ apps/
COPY orchestrator/ orchestrator/
COPY tasks/ tasks/
COPY examples/ examples/
COPY scripts/ scripts/
COPY tools/ tools/

# The admin's and the API docs' static files, collected once into the image (whitenoise serves them).
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

# Not root: a Celery worker refuses to run plugins as root without being told to.
RUN useradd --create-home --uid 10001 baton
USER baton

EXPOSE 8000 5555
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
