"""The operators' admin: uploads through the deploy service, the instance page with its diagram and
masked variables, fast filtered lists, actions through the services, bulk actions as background jobs."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import etree

from apps.definitions import engines
from apps.definitions.models import ProcessDefinition
from apps.definitions.services import definition_deploy
from apps.instances import bulk, services, tasks
from apps.instances.admin import CappedPaginator
from apps.instances.masking import MASK
from apps.instances.models import (
    FlowNodeInstance, Incident, InstanceState, Job, JobState, OperationLog, OutboxMessage, PendingEvent,
    ProcessInstance,
)
from apps.instances.inprocess import run_in_process as work

pytestmark = pytest.mark.django_db

SVG = "http://www.w3.org/2000/svg"

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="defs" targetNamespace="http://baton.dev/tests">
  <bpmn:process id="approve" name="Approve &lt;orders&gt;" isExecutable="true">
    <bpmn:startEvent id="start" name="Order in"/>
    <bpmn:scriptTask id="check" name="Check"><bpmn:script>ratio = 1 / divisor</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="review" name="&lt;script&gt;alert(1)&lt;/script&gt; Review"/>
    <bpmn:endEvent id="end" name="Done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="review"/>
    <bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="approve">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="check_di" bpmnElement="check"><dc:Bounds x="180" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="review_di" bpmnElement="review"><dc:Bounds x="330" y="78" width="100" height="80"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="480" y="100" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="136" y="118"/><di:waypoint x="180" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="280" y="118"/><di:waypoint x="330" y="118"/></bpmndi:BPMNEdge>
      <bpmndi:BPMNEdge id="f3_di" bpmnElement="f3"><di:waypoint x="430" y="118"/><di:waypoint x="480" y="118"/></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>"""

# Line 6 sends a flow to an element that does not exist.
INVALID = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:process id="broken" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="dangling" sourceRef="start" targetRef="nowhere"/>
  </bpmn:process>
</bpmn:definitions>"""

NO_DI = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="t">
  <bpmn:process id="plain" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:userTask id="wait" name="Wait"/>
    <bpmn:endEvent id="e"/>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="wait"/>
    <bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.fixture(autouse=True)
def _fresh_engines():
    """Engines are cached by definition id, and ids come back after each test's rollback."""
    engines._engine.cache_clear()
    yield
    engines._engine.cache_clear()


@pytest.fixture
def definition() -> ProcessDefinition:
    result = definition_deploy(data=MODEL.encode(), source_name="approve.bpmn")
    return ProcessDefinition.objects.get(pk=result.definitions[0].id)


def at_review(definition, **variables) -> ProcessInstance:
    instance = services.instance_start(definition=definition, variables={"divisor": 2, **variables})
    instance = work(instance)
    assert instance.active_elements == ["review"]
    return instance


def with_incident(definition) -> ProcessInstance:
    instance = work(services.instance_start(definition=definition, variables={"divisor": 0}))
    assert instance.open_incidents == 1
    return instance


def change_url(instance: ProcessInstance) -> str:
    return reverse("admin:baton_instances_processinstance_change", args=[instance.pk])


def svg_groups(html: str) -> dict[str, str | None]:
    """data-element -> data-state of every group of the first SVG on the page (parsed as XML)."""
    match = re.search(r"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"baton-diagram.*?</svg>", html, re.DOTALL)
    assert match, "the page holds an SVG diagram"
    root = etree.fromstring(match.group(0).encode("utf-8"))
    return {g.get("data-element"): g.get("data-state") for g in root.iter(f"{{{SVG}}}g") if g.get("data-element")}


# -- definitions ---------------------------------------------------------------------------------------

def test_uploading_a_valid_file_deploys_it_through_the_service(admin_client):
    add = reverse("admin:baton_definitions_processdefinition_add")
    page = admin_client.get(add)
    assert page.status_code == 200 and b'id="baton-deploy-form"' in page.content
    response = admin_client.post(add, {"file": SimpleUploadedFile("approve.bpmn", MODEL.encode(), "text/xml")},
                                 follow=True)
    definition = ProcessDefinition.objects.get(key="approve")
    assert definition.version == 1 and definition.deployment.source_name == "approve.bpmn"
    assert definition.deployment.created_by.username == "admin"
    assert response.redirect_chain[-1][0] == reverse("admin:baton_definitions_processdefinition_change", args=[definition.pk])
    assert "Deployed approve version 1." in response.content.decode()  # capitalised by the admin
    # The same file again makes no new version, and says so.
    again = admin_client.post(add, {"file": SimpleUploadedFile("approve.bpmn", MODEL.encode())}, follow=True)
    assert "Approve version 1 is unchanged" in again.content.decode()
    assert ProcessDefinition.objects.filter(key="approve").count() == 1


def test_uploading_an_invalid_file_shows_each_problem_with_element_and_line(admin_client):
    add = reverse("admin:baton_definitions_processdefinition_add")
    response = admin_client.post(add, {"file": SimpleUploadedFile("broken.bpmn", INVALID.encode())})
    assert response.status_code == 400
    assert not ProcessDefinition.objects.exists()
    html = response.content.decode()
    assert 'id="baton-deploy-problems"' in html
    rows = re.findall(r'<tr class="baton-problem" data-element="([^"]*)" data-line="([^"]*)"', html)
    assert ("dangling", "6") in rows
    assert "nowhere" in html


def test_uploading_something_that_is_not_xml_shows_the_parse_error_with_its_line(admin_client):
    add = reverse("admin:baton_definitions_processdefinition_add")
    response = admin_client.post(add, {"file": SimpleUploadedFile("x.bpmn", b"<a>\n<b></a>")})
    assert response.status_code == 400 and not ProcessDefinition.objects.exists()
    assert re.search(r'class="baton-problem" data-element="" data-line="2"', response.content.decode())


def test_the_definition_page_shows_diagram_versions_and_escaped_xml_and_retires_through_the_service(admin_client, definition):
    v2 = ProcessDefinition.objects.get(pk=definition_deploy(data=MODEL.replace("Order in", "Order received").encode(),
                                                            source_name="approve.bpmn").definitions[0].id)
    page = admin_client.get(reverse("admin:baton_definitions_processdefinition_change", args=[definition.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert set(svg_groups(html)) >= {"start", "check", "review", "end", "f1", "f2", "f3"}
    assert re.findall(r'class="baton-version[^"]*" data-version="(\d+)"', html) == ["2", "1"]
    assert "&lt;bpmn:process id=&quot;approve&quot;" in html  # the XML, escaped
    assert "<script>alert(1)</script>" not in html
    assert 'id="baton-retire"' in html
    xml = admin_client.get(reverse("admin:baton_definitions_processdefinition_xml", args=[definition.pk]))
    assert xml["Content-Disposition"].startswith("attachment;") and xml.content == MODEL.encode()
    admin_client.post(reverse("admin:baton_definitions_processdefinition_retire", args=[definition.pk]))
    definition.refresh_from_db()
    v2.refresh_from_db()
    assert definition.retired and not v2.retired
    page = admin_client.get(reverse("admin:baton_definitions_processdefinition_change", args=[definition.pk]))
    assert 'id="baton-retire"' not in page.content.decode()


def test_definitions_are_read_only_in_the_admin(admin_client, definition):
    url = reverse("admin:baton_definitions_processdefinition_change", args=[definition.pk])
    response = admin_client.post(url, {"key": "hijacked", "version": 7})
    assert response.status_code == 403
    definition.refresh_from_db()
    assert definition.key == "approve"
    assert admin_client.get(reverse("admin:baton_definitions_processdefinition_delete", args=[definition.pk])).status_code == 403


def test_the_retire_action_on_the_list(admin_client, definition):
    response = admin_client.post(reverse("admin:baton_definitions_processdefinition_changelist"),
                                 {"action": "retire_definitions", "_selected_action": [definition.pk]}, follow=True)
    assert response.status_code == 200
    definition.refresh_from_db()
    assert definition.retired


# -- the instance page -------------------------------------------------------------------------------

def test_the_instance_page_marks_the_active_element_and_masks_secrets(admin_client, definition):
    instance = at_review(definition, password="hunter2", customer={"name": "Kermit", "api_key": "k-123"})
    page = admin_client.get(change_url(instance))
    assert page.status_code == 200
    html = page.content.decode()
    states = svg_groups(html)
    assert states["review"] == "active"
    assert states["start"] == "taken" and states["check"] == "taken" and states["f1"] == "taken"
    assert states["end"] is None and states["f3"] is None
    assert "hunter2" not in html and "k-123" not in html
    assert MASK in html and "Kermit" in html
    assert "<script>alert(1)</script>" not in html  # the task's name, escaped in the SVG
    for section in ("baton-diagrams", "baton-variables", "baton-incidents", "baton-user-tasks", "baton-jobs",
                    "baton-history", "baton-family", "baton-operations"):
        assert f'id="{section}"' in html, section
    assert f'href="{reverse("admin:baton_instances_flownodeinstance_changelist")}?instance__id__exact={instance.pk}"' in html
    assert 'id="baton-cancel"' in html and 'id="baton-suspend"' in html and 'id="baton-resume"' not in html


def test_the_instance_page_marks_incidents_red_and_lists_the_user_task(admin_client, definition):
    instance = with_incident(definition)
    html = admin_client.get(change_url(instance)).content.decode()
    assert svg_groups(html)["check"] == "incident"
    incident = Incident.objects.get(instance=instance)
    assert f'class="baton-retry-incident baton-button" data-incident="{incident.pk}"' in html
    waiting = at_review(definition)
    html = admin_client.get(change_url(waiting)).content.decode()
    assert re.search(r'<tr class="baton-user-task" data-state="open" data-element="review">', html)


def test_a_model_without_di_shows_its_elements_as_a_list(admin_client):
    definition = ProcessDefinition.objects.get(pk=definition_deploy(data=NO_DI.encode()).definitions[0].id)
    instance = work(services.instance_start(definition=definition))
    html = admin_client.get(change_url(instance)).content.decode()
    assert "baton-diagram-fallback" in html
    assert svg_groups(html) == {"s": "taken", "wait": "active", "e": None}


def test_the_history_list_filtered_by_instance(admin_client, definition):
    first, second = at_review(definition), at_review(definition)
    url = reverse("admin:baton_instances_flownodeinstance_changelist") + f"?instance__id__exact={first.pk}"
    response = admin_client.get(url)
    assert response.status_code == 200
    shown = {row.instance_id for row in response.context["cl"].result_list}
    assert shown == {first.pk}
    assert FlowNodeInstance.objects.filter(instance=second).exists()


def test_the_parent_and_children_of_an_instance(admin_client, definition):
    parent = at_review(definition)
    child = services.instance_start(definition=definition, variables={"divisor": 1})
    ProcessInstance.objects.filter(pk=child.pk).update(parent=parent, root=parent, parent_element="review")  # set up
    html = admin_client.get(change_url(parent)).content.decode()
    assert f'<tr class="baton-child" data-instance="{child.pk}">' in html
    html = admin_client.get(change_url(child)).content.decode()
    assert f'<tr class="baton-parent" data-instance="{parent.pk}">' in html
    children = admin_client.get(reverse("admin:baton_instances_processinstance_changelist") + f"?parent__id__exact={parent.pk}")
    assert [i.pk for i in children.context["cl"].result_list] == [child.pk]


# -- the list ------------------------------------------------------------------------------------------

def _listed(admin_client, query: str = "") -> list[int]:
    response = admin_client.get(reverse("admin:baton_instances_processinstance_changelist") + query)
    assert response.status_code == 200, response.content[:500]
    return sorted(i.pk for i in response.context["cl"].result_list)


def test_the_instance_list_filters_and_search(admin_client, definition):
    running = at_review(definition)
    keyed = services.instance_start(definition=definition, variables={"divisor": 2}, business_key="A-17")
    failed = with_incident(definition)
    cancelled = services.instance_cancel(instance_id=at_review(definition).pk)
    suspended = services.instance_suspend(instance_id=at_review(definition).pk)
    everyone = sorted(i.pk for i in (running, keyed, failed, cancelled, suspended))
    assert _listed(admin_client) == everyone
    assert _listed(admin_client, "?state__exact=cancelled") == [cancelled.pk]
    assert _listed(admin_client, "?suspended__exact=1") == [suspended.pk]
    assert _listed(admin_client, "?has_incident=yes") == [failed.pk]
    assert failed.pk not in _listed(admin_client, "?has_incident=no")
    assert _listed(admin_client, "?business_key=A-17") == [keyed.pk]
    assert _listed(admin_client, "?q=A-17") == [keyed.pk]
    assert _listed(admin_client, f"?q={failed.pk}") == [failed.pk]
    assert _listed(admin_client, "?q=A-1") == []  # exact matches only (the index answers)
    assert _listed(admin_client, "?process=approve") == everyone
    assert _listed(admin_client, "?process=other") == []
    assert _listed(admin_client, f"?definition__id__exact={definition.pk}") == everyone
    assert _listed(admin_client, "?started_at__gte=2000-01-01+00%3A00%3A00%2B00%3A00") == everyone
    page = admin_client.get(reverse("admin:baton_instances_processinstance_changelist")).content.decode()
    assert 'id="baton-filter-business_key"' in page


def test_the_list_never_counts_the_whole_table_and_defers_the_engine_state(admin_client, definition, monkeypatch):
    for _ in range(5):
        services.instance_start(definition=definition, variables={"divisor": 2})
    monkeypatch.setattr(CappedPaginator, "cap", 3)
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:baton_instances_processinstance_changelist"))
    assert response.status_code == 200
    assert "more than 3" in response.content.decode()
    sql = [q["sql"] for q in queries.captured_queries if "instances_processinstance" in q["sql"]]
    counts = [s for s in sql if "COUNT(" in s.upper()]
    assert counts and all("LIMIT 4" in s for s in counts), counts
    listing = [s for s in sql if "ORDER BY" in s and "COUNT(" not in s.upper()]
    assert listing and all("engine_state" not in s for s in listing)
    assert any("INNER JOIN" in s and "definitions_processdefinition" in s for s in listing)


def test_business_keys_are_escaped_in_the_list(admin_client, definition):
    services.instance_start(definition=definition, variables={"divisor": 2}, business_key="<script>alert(3)</script>")
    html = admin_client.get(reverse("admin:baton_instances_processinstance_changelist")).content.decode()
    assert "<script>alert(3)</script>" not in html and "&lt;script&gt;alert(3)&lt;/script&gt;" in html


# -- actions ----------------------------------------------------------------------------------------------

def _action(admin_client, action: str, ids: list[int], model: str = "processinstance"):
    return admin_client.post(reverse(f"admin:baton_instances_{model}_changelist"),
                             {"action": action, "_selected_action": ids}, follow=True)


def test_cancel_suspend_and_resume_actions_call_the_services(admin_client, definition):
    a, b = at_review(definition), at_review(definition)
    _action(admin_client, "suspend_instances", [a.pk, b.pk])
    assert set(ProcessInstance.objects.filter(pk__in=[a.pk, b.pk]).values_list("suspended", flat=True)) == {True}
    assert OperationLog.objects.filter(action="suspend", user__username="admin").count() == 2
    response = _action(admin_client, "resume_instances", [a.pk])
    a.refresh_from_db()
    assert not a.suspended and "1 instance: resumed." in response.content.decode()
    _action(admin_client, "cancel_instances", [a.pk])
    a.refresh_from_db()
    assert a.state == InstanceState.CANCELLED and a.ended_at is not None
    # A refusal from the service is shown, and the others still go through.
    response = _action(admin_client, "cancel_instances", [a.pk, b.pk])
    html = response.content.decode()
    assert f"Instance {a.pk}: the instance is already cancelled" in html
    b.refresh_from_db()
    assert b.state == InstanceState.CANCELLED


def test_retry_incidents_action_resolves_them_and_records_the_retry(admin_client, definition):
    instance = with_incident(definition)
    _action(admin_client, "retry_instance_incidents", [instance.pk])
    instance.refresh_from_db()
    incident = Incident.objects.get(instance=instance)
    assert incident.resolved_at is not None and incident.resolved_by.username == "admin"
    assert instance.open_incidents == 0
    assert PendingEvent.objects.filter(instance=instance, applied_at__isnull=True).exists()


def test_retry_from_the_incident_list(admin_client, definition):
    instance = with_incident(definition)
    incident = Incident.objects.get(instance=instance)
    listing = admin_client.get(reverse("admin:baton_instances_incident_changelist") + "?open=yes")
    assert [i.pk for i in listing.context["cl"].result_list] == [incident.pk]
    _action(admin_client, "retry_incidents", [incident.pk], model="incident")
    incident.refresh_from_db()
    assert incident.resolved_at is not None


def test_the_buttons_on_the_instance_page(admin_client, definition):
    instance = at_review(definition)
    admin_client.post(reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, "suspend"]))
    instance.refresh_from_db()
    assert instance.suspended
    html = admin_client.get(change_url(instance)).content.decode()
    assert 'id="baton-resume"' in html and 'id="baton-suspend"' not in html
    admin_client.post(reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, "resume"]))
    admin_client.post(reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, "cancel"]))
    instance.refresh_from_db()
    assert instance.state == InstanceState.CANCELLED and not instance.suspended
    response = admin_client.post(reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, "cancel"]),
                                 follow=True)
    assert "already cancelled" in response.content.decode()
    # Buttons only accept POST.
    assert admin_client.get(reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, "cancel"])).status_code == 405
    failed = with_incident(definition)
    incident = Incident.objects.get(instance=failed)
    admin_client.post(reverse("admin:baton_instances_processinstance_retry_incident", args=[failed.pk, incident.pk]))
    incident.refresh_from_db()
    assert incident.resolved_at is not None


def test_bulk_actions_over_the_threshold_run_as_a_background_job(admin_client, definition, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 10)
    instances = [at_review(definition) for _ in range(bulk.INLINE_LIMIT + 5)]
    ids = [i.pk for i in instances]
    services.instance_cancel(instance_id=ids[0])  # one the job will find already cancelled
    before = OutboxMessage.objects.count()
    response = _action(admin_client, "cancel_instances", ids)
    assert "in the background" in response.content.decode()
    # Nothing changed yet: the work went to the outbox, on the maintenance queue, in chunks.
    assert ProcessInstance.objects.filter(pk__in=ids[1:], state=InstanceState.RUNNING).count() == len(ids) - 1
    operation = OperationLog.objects.get(action="bulk_cancel")
    assert operation.user.username == "admin"
    assert operation.details["total"] == len(ids) and operation.details["state"] == "queued"
    messages = list(OutboxMessage.objects.filter(task_name="baton.admin.bulk").order_by("id"))
    assert OutboxMessage.objects.count() - before == len(messages) == 3
    assert {m.queue for m in messages} == {"baton.maintenance"}
    assert sorted(i for m in messages for i in m.kwargs["ids"]) == sorted(ids)
    assert {m.kwargs["operation_id"] for m in messages} == {operation.pk}
    # What the worker does with each message, in-process.
    for message in messages:
        tasks.bulk.admin_bulk(**message.kwargs)
    assert ProcessInstance.objects.filter(pk__in=ids, state=InstanceState.CANCELLED).count() == len(ids)
    assert OperationLog.objects.filter(action="cancel", instance_id__in=ids[1:], user__username="admin").count() == len(ids) - 1
    operation.refresh_from_db()
    details = operation.details
    assert details["state"] == "finished" and details["done"] == len(ids) - 1 and details["failed"] == 1
    assert details["errors"] == [{"id": ids[0], "error": "the instance is already cancelled"}]
    # A message delivered twice does nothing more.
    tasks.bulk.admin_bulk(**messages[0].kwargs)
    operation.refresh_from_db()
    assert operation.details["done"] == len(ids) - 1 and operation.details["failed"] == 1
    page = admin_client.get(reverse("admin:baton_instances_operationlog_change", args=[operation.pk])).content.decode()
    assert 'id="baton-operation-details"' in page


def test_the_bulk_task_is_registered_under_its_name():
    from config.celery import app

    assert app.tasks["baton.admin.bulk"].name == bulk.BULK_TASK
    assert tasks.bulk.admin_bulk.name == "baton.admin.bulk"


# -- the other lists --------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["incident", "usertask", "job", "flownodeinstance", "operationlog"])
def test_the_other_lists_are_read_only_and_load(admin_client, definition, model):
    instance = with_incident(definition)
    at_review(definition)
    response = admin_client.get(reverse(f"admin:baton_instances_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_list
    assert not response.context["has_add_permission"]
    row = response.context["cl"].result_list[0]
    change = admin_client.get(reverse(f"admin:baton_instances_{model}_change", args=[row.pk]))
    assert change.status_code == 200
    assert admin_client.post(reverse(f"admin:baton_instances_{model}_change", args=[row.pk]), {}).status_code == 403
    filtered = admin_client.get(reverse(f"admin:baton_instances_{model}_changelist") + f"?instance__id__exact={instance.pk}")
    assert filtered.status_code == 200
    assert all(r.instance_id == instance.pk for r in filtered.context["cl"].result_list)


def test_job_inputs_and_results_are_masked(admin_client, definition):
    instance = at_review(definition)
    job = Job.objects.filter(instance=instance).first()
    Job.objects.filter(pk=job.pk).update(inputs={"token": "tok-secret", "amount": 3},
                                         result={"set": {"password": "pw-secret"}})
    html = admin_client.get(reverse("admin:baton_instances_job_change", args=[job.pk])).content.decode()
    assert "tok-secret" not in html and "pw-secret" not in html and MASK in html


def test_someone_who_may_only_view_sees_no_buttons_and_cannot_operate(client, definition):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_processinstance", "view_incident"]))
    client.force_login(viewer)
    instance = at_review(definition)
    html = client.get(change_url(instance)).content.decode()
    assert 'id="baton-diagrams"' in html and 'id="baton-cancel"' not in html
    assert client.post(reverse("admin:baton_instances_processinstance_operate", args=[instance.pk, "cancel"])).status_code == 403
    response = client.post(reverse("admin:baton_instances_processinstance_changelist"),
                           {"action": "cancel_instances", "_selected_action": [instance.pk]})
    instance.refresh_from_db()
    assert instance.state == InstanceState.RUNNING
    assert response.status_code in (200, 302)


def test_periodic_tasks_are_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 200
