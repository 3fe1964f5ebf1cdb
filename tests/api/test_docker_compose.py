"""docker-compose.yml, its Dockerfile and .env.example, checked against the settings.

No Docker engine runs where Baton is developed or tested, so nothing here starts a container:
the file is parsed (with `${...}` filled in from .env.example, as compose would from .env) and
every service's image, command, port, health check and environment variable is checked against
config/settings.py, the Celery app and the services the tests run on.
"""
from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS = ROOT / "config" / "settings.py"
SERVER_SCRIPT = ROOT / "scripts" / "server"

BATON_IMAGE = "baton:local"
# The services that run Baton's image, and what each runs.
BATON_SERVICES = {"init", "web", "worker", "beat", "flower"}
RUNTIME_SERVICES = BATON_SERVICES - {"init"}
# Variables that a third-party image reads itself (its documented configuration), per image.
IMAGE_VARIABLES = {
    "postgres": {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_INITDB_ARGS", "PGDATA"},
    "rabbitmq": {"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_VHOST"},
    "redis": set(),
}
# Variables of Baton's image that config/settings.py does not read, and who does.
SCRIPT_VARIABLES = {"BATON_ADMIN_USER", "BATON_ADMIN_PASSWORD"}  # scripts/server (init)


# -- reading the files ---------------------------------------------------------------------------

class Computed(str):
    """A default that is an expression (`5 * 1024 * 1024`), kept as its source text."""


_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def _constant(node: ast.expr) -> Any:
    """A literal's value, arithmetic on numbers included (`5 * 1024 * 1024`); ValueError otherwise."""
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_constant(node.left), _constant(node.right))
    return ast.literal_eval(node)


def settings_env_names(source: str | None = None) -> dict[str, Any]:
    """Every environment variable config/settings.py reads (`env("X")`, `env.int("X", default=...)`),
    with the default it gives (the literal's value, else a Computed with the expression's source)."""
    source = SETTINGS.read_text() if source is None else source
    found: dict[str, Any] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env")
        first = node.args[0]
        if not is_env or not isinstance(first, ast.Constant) or not isinstance(first.value, str):
            continue
        default: Any = None
        for keyword in node.keywords:
            if keyword.arg == "default":
                try:
                    default = _constant(keyword.value)
                except ValueError:
                    default = Computed(ast.get_source_segment(source, keyword.value))
        found.setdefault(first.value, default)
    return found


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>.*))?\Z", re.S)


def interpolate(text: str, values: dict[str, str], used: set[str]) -> str:
    """What compose makes of a string: `$$` is a literal `$`; `${X}`, `${X:-default}` and
    `${X:?error}` are filled in from `values` (as from .env); a required variable missing is an error."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("plain"):
            name, op, arg = match.group("plain"), None, None
        else:
            parsed = _BRACED.match(match.group("braced"))
            assert parsed, f"docker-compose.yml: cannot read {match.group(0)!r}"
            name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg")
        used.add(name)
        value = values.get(name)
        if op in (":-", "-"):
            return value if value or (op == "-" and value is not None) else arg
        assert value, f"docker-compose.yml needs {name} ({arg or 'no default'}), but .env.example does not set it"
        return value

    return _VARIABLE.sub(replace, text)


def _walk(value: Any, values: dict[str, str], used: set[str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, values, used)
    if isinstance(value, list):
        return [_walk(item, values, used) for item in value]
    if isinstance(value, dict):
        return {key: _walk(item, values, used) for key, item in value.items()}
    return value


@cache
def compose_raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@cache
def compose_and_used() -> tuple[dict[str, Any], frozenset[str]]:
    used: set[str] = set()
    return _walk(compose_raw(), env_example(), used), frozenset(used)


def services() -> dict[str, dict[str, Any]]:
    return compose_and_used()[0]["services"]


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def command(service: str) -> list[str]:
    value = services()[service].get("command")
    return shlex.split(value) if isinstance(value, str) else list(value or [])


def option(arguments: list[str], *names: str) -> str | None:
    """The value of an option given as `--name value`, `--name=value` or `-n value`."""
    for i, argument in enumerate(arguments):
        for name in names:
            if argument == name and i + 1 < len(arguments):
                return arguments[i + 1]
            if argument.startswith(name + "=") and name.startswith("--"):
                return argument.split("=", 1)[1]
    return None


def published(service: str) -> dict[int, int]:
    """Container port -> host port of a service's `ports`."""
    ports = {}
    for entry in services()[service].get("ports", []):
        host, _, container = str(entry).rpartition(":")
        ports[int(container)] = int(host)
    return ports


def healthcheck(service: str) -> str:
    test = services()[service].get("healthcheck", {}).get("test")
    assert test, f"{service} has no health check"
    if isinstance(test, str):
        return test
    kind, *rest = test
    assert kind in ("CMD", "CMD-SHELL"), f"{service}: health check kind {kind!r}"
    return rest[0] if kind == "CMD-SHELL" else shlex.join(rest)


def seconds(duration: str) -> float:
    """A compose duration ("320s", "5m20s", "1h") in seconds."""
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?", duration.strip())
    assert parts and any(parts.groups()), f"not a duration compose reads: {duration!r}"
    hours, minutes, secs = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + secs


def image_tag(service: str) -> tuple[str, str]:
    name, _, tag = services()[service]["image"].partition(":")
    return name, tag


# -- versions of the services the tests run against -------------------------------------------------

def _run(*command: str) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def local_version(service: str) -> tuple[int, ...] | None:
    """major.minor (PostgreSQL: major) of the server this machine runs, or None if none is found."""
    if service == "rabbitmq":
        text = _run("dpkg-query", "-W", "-f", "${Version}", "rabbitmq-server") or _run("rabbitmqctl", "version")
        found = re.search(r"(\d+)\.(\d+)", text or "")
    elif service == "redis":
        found = re.search(r"v=(\d+)\.(\d+)", _run("redis-server", "--version") or "")
    else:
        clusters = Path("/etc/postgresql")
        majors = sorted(int(p.name) for p in clusters.iterdir() if p.name.isdigit()) if clusters.is_dir() else []
        if majors:
            return (majors[-1],)
        found = re.search(r"(\d+)", _run("postgres", "--version") or "")
    return tuple(int(group) for group in found.groups()) if found else None


# -- the tests -------------------------------------------------------------------------------------------

def test_every_variable_compose_needs_is_in_env_example_and_every_one_there_is_used():
    _, used = compose_and_used()
    example = env_example()
    assert set(example) <= used, f".env.example sets variables compose never reads: {sorted(set(example) - used)}"
    raw = COMPOSE.read_text()
    for name in used:
        required = re.search(rf"\$\{{{name}(?::?\?[^}}]*)?\}}", raw)
        if required:
            assert name in example, f"docker-compose.yml requires {name}; add it to .env.example"


def test_every_variable_of_baton_services_is_one_that_settings_scripts_or_flower_read():
    read_by_settings = set(settings_env_names())
    script = SERVER_SCRIPT.read_text()
    from flower.options import options as flower_options

    for service in BATON_SERVICES:
        for name in environment(service):
            if name in read_by_settings:
                continue
            if name in SCRIPT_VARIABLES:
                assert service == "init" and name in script, f"{service}: {name} is read only by scripts/server (init)"
                continue
            if service == "flower" and name.startswith("FLOWER_"):
                flag = name.removeprefix("FLOWER_").lower().replace("_", "-")
                assert flag in flower_options._options, f"flower: {name} is no option Flower has"
                continue
            pytest.fail(f"{service}: {name} is set in docker-compose.yml but config/settings.py never reads it")


def test_third_party_images_get_only_their_own_variables():
    for service, allowed in IMAGE_VARIABLES.items():
        assert set(environment(service)) <= allowed, f"{service}: {sorted(set(environment(service)) - allowed)}"


def test_baton_services_run_the_image_built_from_the_dockerfile():
    for service in BATON_SERVICES:
        assert services()[service].get("build") in (".", {"context": "."}), service
        assert services()[service]["image"] == BATON_IMAGE, service
    assert set(services()) == BATON_SERVICES | set(IMAGE_VARIABLES), "a service this test does not know"


def test_the_database_url_is_the_postgres_service():
    database = environ.Env.db_url_config(environment("web")["DATABASE_URL"])
    postgres = environment("postgres")
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], int(database["PORT"])) == ("postgres", 5432)
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == (
        postgres["POSTGRES_DB"], postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
    assert "pg_isready" in healthcheck("postgres")


def test_the_broker_url_is_the_rabbitmq_service_with_its_account_and_virtual_host():
    broker = urlsplit(environment("web")["CELERY_BROKER_URL"])
    rabbitmq = environment("rabbitmq")
    assert (broker.scheme, broker.hostname, broker.port) == ("amqp", "rabbitmq", 5672)
    assert (broker.username, broker.password, broker.path.lstrip("/")) == (
        rabbitmq["RABBITMQ_DEFAULT_USER"], rabbitmq["RABBITMQ_DEFAULT_PASS"], rabbitmq["RABBITMQ_DEFAULT_VHOST"])
    assert "rabbitmq-diagnostics" in healthcheck("rabbitmq")
    # Flower's broker tab talks to the management plugin with the same account.
    api = urlsplit(environment("flower")["FLOWER_BROKER_API"])
    assert (api.hostname, api.port, api.username, api.password) == (
        "rabbitmq", 15672, broker.username, broker.password)
    assert image_tag("rabbitmq")[1].endswith("-management")


def test_results_and_cache_are_the_redis_service():
    for name in ("CELERY_RESULT_BACKEND", "BATON_CACHE_URL"):
        url = environment("web").get(name)
        if name == "BATON_CACHE_URL" and url is None and "BATON_CACHE_URL" not in settings_env_names():
            continue  # no shared cache in the settings: nothing to point at Redis
        assert url is not None, f"docker-compose.yml does not set {name}: it would point at 127.0.0.1"
        parsed = urlsplit(url)
        assert (parsed.scheme, parsed.hostname, parsed.port or 6379) == ("redis", "redis", 6379), name
    assert "redis-cli ping" in healthcheck("redis")


def test_every_baton_service_has_the_same_settings():
    shared = environment("web")
    for service in BATON_SERVICES:
        own = environment(service)
        assert {name: own.get(name) for name in shared} == shared, f"{service} differs from web"
    assert shared["DJANGO_DEBUG"] == "false"
    assert shared["DJANGO_SECRET_KEY"], "production needs DJANGO_SECRET_KEY"
    assert "examples.plugins" in shared["BATON_PLUGIN_MODULES"].split(","), "the examples init deploys need it"


def test_the_worker_serves_every_queue_and_answers_a_ping_by_its_node_name():
    arguments = command("worker")
    assert arguments[:4] == ["celery", "-A", "config", "worker"]
    for flag in ("-Q", "--queues", "-X", "--exclude-queues", "-n", "--hostname"):
        assert not any(a == flag or a.startswith(flag + "=") for a in arguments), f"worker: {flag}"
    check = healthcheck("worker")
    assert services()["worker"]["healthcheck"]["test"][0] == "CMD-SHELL", "$HOSTNAME needs a shell"
    assert re.match(r"celery -A config inspect ping -d celery@\$HOSTNAME\b", check), check
    # Written `$$HOSTNAME`, so that compose leaves it to the container's shell.
    assert "celery@$$HOSTNAME" in str(compose_raw()["services"]["worker"]["healthcheck"]["test"])


def test_a_stopping_worker_gets_at_least_the_hard_time_limit():
    limit = environment("worker").get("CELERY_TASK_TIME_LIMIT") or settings_env_names()["CELERY_TASK_TIME_LIMIT"]
    grace = seconds(services()["worker"]["stop_grace_period"])
    assert grace >= int(limit), f"stop_grace_period {grace:g} s < CELERY_TASK_TIME_LIMIT {limit} s"
    assert services()["worker"].get("stop_signal", "SIGTERM") == "SIGTERM", "SIGTERM is Celery's warm shutdown"


def test_there_is_exactly_one_beat_and_it_cannot_be_scaled():
    arguments = command("beat")
    assert arguments[:4] == ["celery", "-A", "config", "beat"]
    scheduler = option(arguments, "-S", "--scheduler")
    assert scheduler in (None, settings.CELERY_BEAT_SCHEDULER)
    beat = services()["beat"]
    assert beat.get("deploy", {}).get("replicas") == 1
    assert beat.get("container_name"), "a fixed container name makes `--scale beat=2` fail"
    assert "scale" not in beat


def test_the_web_server_is_gunicorn_on_the_wsgi_application_with_a_readiness_check():
    arguments = command("web")
    assert arguments[0] == "gunicorn"
    module, attribute = settings.WSGI_APPLICATION.rsplit(".", 1)
    assert f"{module}:{attribute}" in arguments
    bind = option(arguments, "--bind", "-b")
    assert bind and bind.startswith("0.0.0.0:"), "listen on the container's network, not only its loopback"
    port = int(bind.rsplit(":", 1)[1])
    assert port in published("web")
    check = healthcheck("web")
    assert f"http://127.0.0.1:{port}/readyz" in check
    hosts = environment("web")["DJANGO_ALLOWED_HOSTS"].split(",")
    assert "127.0.0.1" in hosts, "the health check calls 127.0.0.1: it must be an allowed host"


def test_flower_runs_with_basic_auth_on_its_published_port():
    arguments = command("flower")
    assert arguments[:4] == ["celery", "-A", "config", "flower"]
    port = int(option(arguments, "--port") or 5555)
    assert port in published("flower")
    user, sep, password = environment("flower")["FLOWER_BASIC_AUTH"].partition(":")
    assert user and sep and password, "FLOWER_BASIC_AUTH is user:password"
    assert f"http://127.0.0.1:{port}/healthcheck" in healthcheck("flower")


def test_init_prepares_and_everything_else_waits_for_it_and_the_services():
    assert command("init") == ["scripts/server", "prepare"]
    script = SERVER_SCRIPT.read_text()
    assert "prepare)" in script and "BATON_PYTHON" in script
    assert services()["init"].get("restart") == "no"
    for service in RUNTIME_SERVICES:
        depends = services()[service]["depends_on"]
        assert depends == {"postgres": {"condition": "service_healthy"}, "rabbitmq": {"condition": "service_healthy"},
                           "redis": {"condition": "service_healthy"},
                           "init": {"condition": "service_completed_successfully"}}, service
    for service in RUNTIME_SERVICES - {"beat"}:
        healthcheck(service)  # each one has a check


def test_published_ports_do_not_collide():
    hosts = [host for service in services() for host in published(service).values()]
    assert len(hosts) == len(set(hosts)), hosts


@pytest.mark.parametrize("service", ["rabbitmq", "postgres", "redis"])
def test_images_are_the_versions_the_tests_run_against(service):
    local = local_version(service)
    assert local is not None, (f"no local {service} server to compare the image tag with: the test services must be "
                               "installed (see DEVELOPERS.md, Services)")
    _, tag = image_tag(service)
    version = tuple(int(part) for part in re.match(r"\d+(?:\.\d+)*", tag).group(0).split("."))
    assert version == local[:len(version)] and len(version) == len(local), (
        f"{service} image {tag!r}, but the tests run against {'.'.join(map(str, local))}")


def test_the_dockerfile_installs_the_runtime_requirements_and_copies_every_package():
    text = DOCKERFILE.read_text().replace("\\\n", " ")  # continuation lines joined
    base = re.search(r"^FROM python:(\d+)\.(\d+)", text, re.M)
    assert base and (int(base.group(1)), int(base.group(2))) == sys.version_info[:2], "the Python the tests run on"
    assert re.search(r"pip install .*-r requirements/base\.txt", text)
    copied = set()
    for source in re.findall(r"^COPY\s+(\S+)\s+\S+\s*$", text, re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
        copied.add(source.rstrip("/"))
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests", "bench"}
    assert packages <= copied, f"not in the image: {sorted(packages - copied)}"
    assert {"manage.py", "scripts"} <= copied
    assert re.search(r"^ENV .*BATON_PYTHON=", text, re.M), "init runs scripts/server with the image's Python"
    requirements = (ROOT / "requirements" / "base.txt").read_text()
    assert re.search(r"^gunicorn==\S+", requirements, re.M), "compose runs gunicorn: pin it in requirements/base.txt"


def test_redis_never_evicts_results_or_locks():
    command = " ".join(compose_raw()["services"]["redis"]["command"])
    assert "--maxmemory-policy noeviction" in command
