"""/api/v1/service-tasks/: every plugin, never Celery's own or Baton's internal tasks."""
from __future__ import annotations

import pytest

from tests.api.rest.conftest import API

pytestmark = pytest.mark.django_db


def test_every_plugin_with_its_arguments_and_docstring(as_bob):
    response = as_bob.get(f"{API}/service-tasks/")
    assert response.status_code == 200
    plugins = {plugin["name"]: plugin for plugin in response.json()}
    assert {"echo", "log", "http.request", "email.send"} <= set(plugins)
    assert not [name for name in plugins if name.startswith(("celery.", "baton."))]
    http = plugins["http.request"]
    assert http["arguments"][:2] == ["url", "method"] and http["required"] == ["url"]
    assert http["accepts_job_id"] is True and "baton_job_id" not in http["arguments"]
    assert http["doc"] and plugins["echo"]["module"] == "tasks.builtins"
    assert set(http) == {"name", "module", "queue", "arguments", "required", "takes_kwargs", "accepts_job_id",
                         "doc", "max_retries", "time_limit", "soft_time_limit"}
