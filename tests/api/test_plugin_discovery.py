"""Plugin discovery: which Celery tasks Baton offers to service tasks, and what it knows of them."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.plugins.registry import PluginInfo, discover_plugins
from config import celery_app

FIXTURES_MODULE = "tests.api.plugin_fixtures"

# The fixture plugin sets the `queue` task option on purpose (PluginInfo reports it), which
# Celery 5.7 deprecates in favour of `task_routes`.
pytestmark = pytest.mark.filterwarnings(r"ignore:\s*The 'queue' task attribute is deprecated")


def test_builtins_are_plugins():
    plugins = discover_plugins()

    assert plugins["echo"] == PluginInfo(
        name="echo",
        module="tasks.builtins",
        queue=None,
        arguments=("message",),
        required=("message",),
        takes_kwargs=False,
        accepts_job_id=False,
        doc='Return `message` unchanged, as {"echo": message}.',
        max_retries=3,
        time_limit=celery_app.conf.task_time_limit,
        soft_time_limit=celery_app.conf.task_soft_time_limit,
    )
    assert plugins["log"].arguments == ("message",)
    assert plugins["log"].module == "tasks.builtins"


def test_builtins_behave_as_documented(caplog):
    plugins = discover_plugins()
    echo, log = (celery_app.tasks[plugins[name].name] for name in ("echo", "log"))

    assert echo.run(message="hi") == {"echo": "hi"}
    with caplog.at_level("INFO", logger="tasks.builtins"):
        assert log.run(message="hello from a process") is None
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("INFO", "hello from a process")]


def test_a_module_named_in_baton_plugin_modules_is_searched(settings):
    settings.BATON_PLUGIN_MODULES = (FIXTURES_MODULE,)

    greet = discover_plugins()["fixtures.greet"]

    assert greet == PluginInfo(
        name="fixtures.greet",
        module=FIXTURES_MODULE,
        queue="plugins",
        arguments=("name", "greeting"),
        required=("name",),
        takes_kwargs=True,
        accepts_job_id=True,
        doc="Greet `name`.\n\nSecond paragraph of the docstring.",
        max_retries=5,
        time_limit=30,
        soft_time_limit=20,
    )


def test_celery_and_baton_tasks_are_never_plugins(settings):
    settings.BATON_PLUGIN_MODULES = (FIXTURES_MODULE,)

    plugins = discover_plugins()

    assert "baton.fixture_internal" in celery_app.tasks
    assert "celery.fixture_pretender" in celery_app.tasks
    assert any(name.startswith("celery.") and name != "celery.fixture_pretender" for name in celery_app.tasks)
    assert not [name for name in plugins if name.startswith(("celery.", "baton."))]


def test_tasks_outside_the_plugin_modules_are_not_plugins(settings):
    settings.BATON_PLUGIN_MODULES = (FIXTURES_MODULE,)
    assert "fixtures.greet" in discover_plugins()

    settings.BATON_PLUGIN_MODULES = ()

    assert "fixtures.greet" in celery_app.tasks  # still registered with Celery, from the import above
    assert "fixtures.greet" not in discover_plugins()


def test_the_tasks_module_of_a_third_party_installed_app_is_searched(settings):
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "tests.api.plugin_fixture_app"]

    ping = discover_plugins()["fixture_app.ping"]

    assert (ping.module, ping.arguments) == ("tests.api.plugin_fixture_app.tasks", ())


@pytest.mark.parametrize("bad", ["tests.api.no_such_plugin_module", "tests.api.plugin_fixtures.greet"])
def test_a_bad_module_in_baton_plugin_modules_is_improperly_configured(settings, bad):
    settings.BATON_PLUGIN_MODULES = ("tasks.builtins", bad)

    with pytest.raises(ImproperlyConfigured, match=rf"Plugin module '{bad}' \(from BATON_PLUGIN_MODULES\) cannot be imported"):
        discover_plugins()
