"""The example processes of examples/ on a real worker: RabbitMQ, PostgreSQL and their plugins
(`examples.plugins`, loaded through BATON_PLUGIN_MODULES as scripts/server and compose load it).

Each is deployed from its file as it ships and run to an end event; the service check calls an
`http.server` this test starts. `validate` and `simulate` are run on each file too, as the
examples' README shows them.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances.models import FlowNodeInstance, InstanceState, Job, JobState, ProcessInstance, UserTask, \
    UserTaskState, Variable
from apps.instances.services import instance_start, user_task_complete
from tests.integration.conftest import PLUGIN_MODULE, CeleryProcess, IntegrationDatabase, Processes, \
    purge_baton_queues, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
EXAMPLE_PLUGINS = "examples.plugins"
ORDER = {"order_id": "A-1001", "customer_email": "ada@example.com", "express": True,
         "items": [{"sku": "BOOK-1", "qty": 2, "unit_price": 12.5}, {"sku": "MUG-2", "qty": 1, "unit_price": 8}]}


@pytest.fixture(scope="module")
def examples_worker(django_db_setup: IntegrationDatabase, broker_url: str, tmp_path_factory) -> Iterator[CeleryProcess]:
    """A worker that knows the examples' plugins as well as the test plugins."""
    purge_baton_queues()
    processes = Processes(django_db_setup, broker_url, tmp_path_factory.mktemp("examples"))
    try:
        yield processes.worker(BATON_PLUGIN_MODULES=f"{PLUGIN_MODULE},{EXAMPLE_PLUGINS}")
    finally:
        processes.stop_all()


@pytest.fixture(autouse=True)
def _example_plugins_here() -> Iterator[None]:
    """This process (deploy, validate) knows them too."""
    with override_settings(BATON_PLUGIN_MODULES=(PLUGIN_MODULE, EXAMPLE_PLUGINS)):
        yield


def deploy(name: str) -> ProcessDefinition:
    result = definition_deploy(data=(EXAMPLES / f"{name}.bpmn").read_bytes(), source_name=f"{name}.bpmn")
    assert [d.key for d in result.definitions] == [name]
    return ProcessDefinition.objects.get(pk=result.definitions[0].id)


def settled(instance_id: int) -> ProcessInstance | None:
    return ProcessInstance.objects.filter(pk=instance_id).exclude(state=InstanceState.RUNNING).first()


def finish(instance: ProcessInstance) -> ProcessInstance:
    """Wait until the instance ended; it must have completed."""
    ended = wait_until(lambda: settled(instance.pk), what=f"instance {instance.pk} ends", instance_id=instance.pk)
    assert ended.state == InstanceState.COMPLETED, ended.state
    return ended


def variables(instance_id: int) -> dict:
    return dict(Variable.objects.filter(instance_id=instance_id).values_list("name", "value"))


def reached(instance_id: int) -> set[str]:
    return set(FlowNodeInstance.objects.filter(instance_id=instance_id, state=FlowNodeInstance.State.COMPLETED)
               .values_list("element_id", flat=True))


def open_task(instance_id: int, element: str) -> UserTask:
    return wait_until(lambda: UserTask.objects.filter(instance_id=instance_id, element_id=element,
                                                      state=UserTaskState.OPEN).first(),
                      what=f"user task {element} opens", instance_id=instance_id)


# -- order fulfilment -------------------------------------------------------------------------------

def test_an_order_in_stock_is_charged_and_reserved_in_parallel_then_shipped_and_mailed(examples_worker):
    instance = finish(instance_start(definition=deploy("order_fulfilment"), variables=ORDER))

    values = variables(instance.pk)
    assert values["total"] == 33.0 and values["in_stock"] is True
    assert values["payment_id"].startswith("PAY-") and values["reservation_id"].startswith("RES-")
    assert (values["carrier"], values["tracking_number"][:4]) == ("SwiftPost Next Day", "TRK-")
    assert (values["to"], values["email_sent"]) == ("ada@example.com", 1)
    assert {"fan_out", "charge_payment", "reserve_stock", "join", "send_confirmation", "order_shipped"} \
        <= reached(instance.pk)
    assert "order_backordered" not in reached(instance.pk)
    jobs = Job.objects.filter(instance_id=instance.pk, kind="service")
    assert sorted(jobs.values_list("task_name", flat=True)) == [
        "email.send", "examples.orders.book_shipment", "examples.orders.charge_payment",
        "examples.orders.check_stock", "examples.orders.reserve_stock"]
    assert {(job.state, job.attempt) for job in jobs} == {(JobState.COMPLETED, 1)}


def test_an_order_out_of_stock_is_backordered_and_nobody_is_charged(examples_worker):
    order = dict(ORDER, items=[{"sku": "POSTER-4", "qty": 1, "unit_price": 5}, {"sku": "LAMP-3", "qty": 5,
                                                                                  "unit_price": 40}])
    instance = finish(instance_start(definition=deploy("order_fulfilment"), variables=order))

    values = variables(instance.pk)
    assert values["missing"] == ["POSTER-4", "LAMP-3"]
    assert values["message"] == "order A-1001 is backordered, waiting for POSTER-4, LAMP-3"
    assert "order_backordered" in reached(instance.pk)
    assert not {"charge_payment", "reserve_stock", "book_shipment"} & reached(instance.pk)


# -- expense approval -------------------------------------------------------------------------------

EXPENSE = {"request_id": "EXP-7", "requester": "grace", "purpose": "conference"}


def test_an_expense_over_1000_escalates_to_a_director_and_is_paid(examples_worker):
    instance = instance_start(definition=deploy("expense_approval"), variables=dict(EXPENSE, amount=2500))

    manager = open_task(instance.pk, "manager_review")
    assert (manager.candidate_groups, manager.form_fields) == (["managers"], ["approved", "comment"])
    user_task_complete(task_id=manager.pk, variables={"approved": True, "comment": "fine by me"})
    director = open_task(instance.pk, "director_review")
    assert director.candidate_groups == ["directors"]
    user_task_complete(task_id=director.pk, variables={"director_approved": True})
    finish(instance)

    values = variables(instance.pk)
    assert values["paid"] is True and values["payment_reference"].startswith("EXP-")
    assert values["message"] == f"expense EXP-7 of 2500 paid to grace: {values['payment_reference']}"
    assert "expense_paid" in reached(instance.pk)


@pytest.mark.parametrize(("amount", "approved", "end", "director"), [
    (400, True, "expense_paid", False),
    (400, False, "expense_rejected", False),
    (2500, False, "expense_rejected", False),
])
def test_the_manager_alone_decides_small_expenses_and_rejections(examples_worker, amount, approved, end, director):
    instance = instance_start(definition=deploy("expense_approval"), variables=dict(EXPENSE, amount=amount))

    task = open_task(instance.pk, "manager_review")
    user_task_complete(task_id=task.pk, variables={"approved": approved})
    finish(instance)

    assert end in reached(instance.pk)
    assert ("director_review" in reached(instance.pk)) is director
    assert not UserTask.objects.filter(instance_id=instance.pk, element_id="director_review").exists()


# -- service check over HTTP ----------------------------------------------------------------------------

class _Service(BaseHTTPRequestHandler):
    """/health answers 200 with JSON, anything else 503."""

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        healthy = self.path == "/health"
        body = json.dumps({"status": "ok" if healthy else "down"}).encode()
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def local_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_service_check_calls_a_healthy_service_with_http_request(examples_worker, local_service):
    instance = finish(instance_start(definition=deploy("service_check"), variables={"url": f"{local_service}/health"}))

    values = variables(instance.pk)
    assert values["reply"]["status"] == 200 and values["reply"]["response"] == {"status": "ok"}
    assert values["healthy"] is True
    assert "service_up" in reached(instance.pk)


def test_the_service_check_raises_an_alert_for_a_failing_service(examples_worker, local_service):
    url = f"{local_service}/down"
    instance = finish(instance_start(definition=deploy("service_check"), variables={"url": url}))

    values = variables(instance.pk)
    assert (values["reply"]["status"], values["healthy"]) == (503, False)
    assert values["message"] == f"ALERT: {url} answered HTTP 503"
    assert "service_down" in reached(instance.pk)


# -- validate and simulate, as the examples' README shows them ------------------------------------------

@pytest.mark.parametrize("name", ["order_fulfilment", "expense_approval", "service_check"])
def test_every_example_is_valid_and_executable(name, capsys):
    call_command("validate", str(EXAMPLES / f"{name}.bpmn"), "--json")
    report = json.loads(capsys.readouterr().out)
    assert (report["valid"], report["executable"], report["errors"], report["warnings"]) == (True, True, [], [])


@pytest.mark.parametrize(("name", "variables", "mocks", "state", "end"), [
    ("order_fulfilment", ORDER, {}, "completed", "order_shipped"),
    ("order_fulfilment", ORDER, {"examples.orders.check_stock": {"in_stock": False, "missing": ["BOOK-1"]},
                                 "log": None}, "completed", "order_backordered"),
    ("expense_approval", dict(EXPENSE, amount=2500), {}, "waiting", "manager_review"),
    ("service_check", {"url": "http://127.0.0.1:9/"},
     {"http.request": {"status": 503, "response": None, "response_headers": {}}, "log": None},
     "completed", "service_down"),
])
def test_every_example_simulates(name, variables, mocks, state, end, capsys):
    """With --run-tasks for the plugins not mocked (the examples' own, email.send on the console)."""
    arguments = [str(EXAMPLES / f"{name}.bpmn"), "--json", "--run-tasks", "--vars", json.dumps(variables)]
    for task, result in mocks.items():
        arguments += ["--mock", f"{task}={json.dumps(result)}"]
    call_command("simulate", *arguments)
    outcome = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert outcome["state"] == state, outcome
    assert end in outcome["completed"] + [w["id"] for w in outcome["waiting"]]
