"""Find the service-task plugins: ordinary Celery tasks that a BPMN service task can call by name.

Plugins live in exactly three places:
- the `tasks` package at the repo root, with all its submodules;
- the `tasks` module of every installed app that is neither Baton's own (`apps.*`) nor
  Django's or Celery's;
- the modules named in `settings.BATON_PLUGIN_MODULES`.

Only tasks defined in those modules are plugins, and never Celery's own (`celery.*`) nor
Baton's internal tasks (`baton.*`), wherever they are defined.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import pkgutil
from dataclasses import dataclass
from types import ModuleType

from celery import Task
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from config.celery import app as celery_app

PLUGIN_PACKAGE = "tasks"
JOB_ID_ARGUMENT = "baton_job_id"
RESERVED_PREFIXES = ("celery.", "baton.")
# Installed apps whose `tasks` modules are never searched: Baton's own, Django's and Celery's.
NOT_PLUGIN_APPS = ("apps", "django", "celery", "django_celery_beat", "django_celery_results")


@dataclass(frozen=True)
class PluginInfo:
    """What Baton knows of one plugin without running it."""

    name: str
    """The Celery task name a service task refers to."""
    module: str
    queue: str | None
    """The task's own `queue` option, or None (Celery 5.7 deprecates that option for `task_routes`)."""
    arguments: tuple[str, ...]
    """Declared parameter names, in order, without `self` and `baton_job_id`."""
    required: tuple[str, ...]
    """The subset of `arguments` that has no default."""
    takes_kwargs: bool
    """The task also accepts arbitrary keyword arguments (`**kwargs`)."""
    accepts_job_id: bool
    """The task declares `baton_job_id`, and is passed the id of the job that called it."""
    doc: str
    max_retries: int | None
    time_limit: float | None
    """Hard time limit in seconds: the task's own, or else CELERY_TASK_TIME_LIMIT."""
    soft_time_limit: float | None
    """Soft time limit in seconds: the task's own, or else CELERY_TASK_SOFT_TIME_LIMIT."""


def worker_plugins() -> dict[str, PluginInfo]:
    """The plugins, found once per process and plugin-module setting: a worker's plugin modules
    cannot change while it runs (a new plugin means a restart), and finding them imports and
    walks packages on every call otherwise."""
    return _plugins_for(tuple(settings.BATON_PLUGIN_MODULES))


@functools.lru_cache(maxsize=8)
def _plugins_for(modules: tuple[str, ...]) -> dict[str, PluginInfo]:
    return discover_plugins()


def discover_plugins() -> dict[str, PluginInfo]:
    """Import every plugin module and describe the plugins they define, by task name."""
    modules = {module.__name__ for module in _plugin_modules()}
    return {
        name: _describe(name, task)
        for name, task in sorted(celery_app.tasks.items())
        if task.__module__ in modules and not name.startswith(RESERVED_PREFIXES)
    }


def _plugin_modules() -> list[ModuleType]:
    modules = []
    if importlib.util.find_spec(PLUGIN_PACKAGE) is not None:
        package = _import(PLUGIN_PACKAGE, "the plugin package")
        modules.append(package)
        for submodule in pkgutil.walk_packages(package.__path__, prefix=f"{PLUGIN_PACKAGE}."):
            modules.append(_import(submodule.name, "the plugin package"))
    for app_config in django_apps.get_app_configs():
        if app_config.name.split(".")[0] in NOT_PLUGIN_APPS:
            continue
        name = f"{app_config.name}.tasks"
        if importlib.util.find_spec(name) is not None:
            modules.append(_import(name, f"the installed app {app_config.name!r}"))
    for name in settings.BATON_PLUGIN_MODULES:
        modules.append(_import(name, "BATON_PLUGIN_MODULES"))
    return modules


def _import(name: str, named_by: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise ImproperlyConfigured(
            f"Plugin module {name!r} (from {named_by}) cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc


def _describe(name: str, task: Task) -> PluginInfo:
    # `task.run` is already bound for `bind=True` tasks, so `self` is not among its parameters.
    signature = inspect.signature(task.run).parameters.values()
    named = [p for p in signature if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    arguments = [p for p in named if p.name != JOB_ID_ARGUMENT]
    return PluginInfo(
        name=name,
        module=task.__module__,
        queue=getattr(task, "queue", None),
        arguments=tuple(p.name for p in arguments),
        required=tuple(p.name for p in arguments if p.default is p.empty),
        takes_kwargs=any(p.kind is p.VAR_KEYWORD for p in signature),
        accepts_job_id=len(arguments) != len(named),
        doc=inspect.getdoc(task.run) or "",
        max_retries=task.max_retries,
        time_limit=task.time_limit,
        soft_time_limit=task.soft_time_limit,
    )
