"""/api/v1/definitions/: deploy, list, read, XML, diagram, retire."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.definitions.models import Deployment, ProcessDefinition
from tests.api.rest.conftest import API, HEAD, TAIL, assert_error, deploy, grant, user_task_process

pytestmark = pytest.mark.django_db

ORDER = user_task_process("order", name="Order")
INVALID = HEAD + """  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="nowhere"/>
  </bpmn:process>
""" + TAIL
NOT_EXECUTABLE = HEAD + """  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="call" baton:task="no.such.plugin"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
  </bpmn:process>
""" + TAIL


def upload(client, xml: str | bytes, name: str = "order.bpmn", **extra):
    data = xml.encode() if isinstance(xml, str) else xml
    return client.post(f"{API}/definitions/", {"file": SimpleUploadedFile(name, data, "application/xml")},
                       format="multipart", **extra)


def post_xml(client, xml: str | bytes, content_type: str = "application/xml", **extra):
    data = xml.encode() if isinstance(xml, str) else xml
    return client.post(f"{API}/definitions/", data, content_type=content_type, **extra)


# -- deploy ---------------------------------------------------------------------------------------------

def test_a_multipart_upload_creates_a_version_201_and_the_same_file_again_is_unchanged_200(as_admin):
    first = upload(as_admin, ORDER)
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["warnings"] == []
    [created] = body["definitions"]
    assert created | {"id": 0} == {"id": 0, "key": "order", "version": 1, "name": "Order", "created": True}
    assert Deployment.objects.get().source_name == "order.bpmn"

    again = upload(as_admin, ORDER)
    assert again.status_code == 200
    assert again.json()["definitions"] == [{**created, "created": False}]


def test_the_xml_as_the_body_deploys_too(as_admin):
    response = post_xml(as_admin, ORDER)
    assert response.status_code == 201
    assert response.json()["definitions"][0]["key"] == "order"
    assert post_xml(as_admin, ORDER.replace('name="Review"', 'name="Check"'), content_type="text/xml") \
        .json()["definitions"][0]["version"] == 2


def test_an_invalid_file_is_400_invalid_model_with_element_and_line(as_admin):
    body = assert_error(upload(as_admin, INVALID), 400, "invalid_model")
    assert body["errors"] == [{"element": "f1", "line": 7,
                               "message": "targetRef refers to 'nowhere', which is not a flow node of process 'p'"}]
    assert not ProcessDefinition.objects.exists()


def test_a_file_baton_cannot_run_is_400_not_executable(as_admin):
    body = assert_error(post_xml(as_admin, NOT_EXECUTABLE), 400, "not_executable")
    assert body["errors"] == [{"element": "call", "line": 7,
                               "message": "not executable: plugin 'no.such.plugin' is not installed"}]


def test_what_is_not_xml_is_400_invalid_model_with_the_line(as_admin):
    body = assert_error(post_xml(as_admin, b"\xff\xfe not xml"), 400, "invalid_model")
    assert body["errors"][0]["line"] == 1


@pytest.mark.parametrize("how", ["multipart", "body"])
def test_a_file_over_the_cap_is_413(as_admin, settings, how):
    settings.BATON_MAX_BPMN_BYTES = 1000
    big = ORDER.replace("<bpmn:endEvent", "<!--" + "x" * 2000 + "-->\n    <bpmn:endEvent")
    response = upload(as_admin, big) if how == "multipart" else post_xml(as_admin, big)
    body = assert_error(response, 413, "too_large")
    assert "1,000" in body["message"]
    assert not ProcessDefinition.objects.exists()


def test_a_body_over_the_request_limit_is_413_before_it_is_read(as_admin, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 500
    assert_error(post_xml(as_admin, ORDER), 413, "too_large")


def test_deploy_without_a_file_is_400_naming_the_field(as_admin):
    body = assert_error(as_admin.post(f"{API}/definitions/", {"other": "x"}, format="multipart"), 400,
                        "invalid_input")
    assert body["errors"][0]["element"] == "file" and body["errors"][0]["line"] is None
    assert_error(post_xml(as_admin, b""), 400, "invalid_input")


def test_deploy_as_json_is_415(as_admin):
    assert_error(as_admin.post(f"{API}/definitions/", {"xml": ORDER}, format="json"), 415, "unsupported_media_type")


def test_deploy_needs_the_deploy_grant(as_alice, alice):
    grant(alice, "read", "*")
    grant(alice, "operate", "*")
    assert_error(upload(as_alice, ORDER), 403, "permission_denied")
    grant(alice, "deploy", "*")
    assert upload(as_alice, ORDER).status_code == 201


# -- reading ---------------------------------------------------------------------------------------------

def test_list_is_newest_first_and_filters_by_key_and_latest(as_admin):
    deploy(ORDER)
    v2 = deploy(ORDER.replace('name="Review"', 'name="Check"'))
    v3 = deploy(ORDER.replace('name="Review"', 'name="Check again"'))
    other = deploy(user_task_process("refund"))
    v3.retired = True
    v3.save()
    body = as_admin.get(f"{API}/definitions/").json()
    assert [d["id"] for d in body["results"]] == sorted([d["id"] for d in body["results"]], reverse=True)
    assert {"next", "previous", "results"} <= set(body)
    assert [d["version"] for d in as_admin.get(f"{API}/definitions/?key=order").json()["results"]] == [3, 2, 1]
    latest = as_admin.get(f"{API}/definitions/?latest=true").json()["results"]
    assert sorted((d["key"], d["id"]) for d in latest) == sorted([("order", v2.id), ("refund", other.id)])
    assert_error(as_admin.get(f"{API}/definitions/?latest=perhaps"), 400, "invalid_input")


def test_retrieve_xml_and_diagram(as_admin):
    definition = deploy(ORDER)
    body = as_admin.get(f"{API}/definitions/{definition.id}/").json()
    assert body == {"id": definition.id, "key": "order", "version": 1, "name": "Order", "retired": False,
                    "created_at": body["created_at"], "deployment": definition.deployment_id}
    assert body["created_at"].endswith("Z")
    xml = as_admin.get(f"{API}/definitions/{definition.id}/xml/")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    assert xml.content.decode() == ORDER
    svg = as_admin.get(f"{API}/definitions/{definition.id}/diagram.svg", HTTP_ACCEPT="image/svg+xml")
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
    assert svg.content.startswith(b"<svg") and b'data-element="review"' in svg.content
    assert "default-src 'none'" in svg["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["{id}/", "{id}/xml/", "{id}/diagram.svg"])
def test_unknown_or_unreadable_definitions_are_404(as_admin, as_alice, alice, path):
    definition = deploy(ORDER)
    assert_error(as_admin.get(f"{API}/definitions/" + path.format(id=definition.id + 1000)), 404, "not_found")
    assert_error(as_alice.get(f"{API}/definitions/" + path.format(id=definition.id)), 404, "not_found")
    grant(alice, "read", "order")
    assert as_alice.get(f"{API}/definitions/" + path.format(id=definition.id)).status_code == 200


def test_lists_show_only_what_the_caller_may_read(as_alice, alice, make_user):
    deploy(ORDER)
    deploy(user_task_process("refund"))
    deploy(user_task_process("secret"))
    assert as_alice.get(f"{API}/definitions/").json()["results"] == []
    grant(alice, "start", "order")  # any grant on a key lets its holder read it
    from django.contrib.auth.models import Group
    grant(Group.objects.get(name="clerks"), "read", "refund")
    keys = {d["key"] for d in as_alice.get(f"{API}/definitions/").json()["results"]}
    assert keys == {"order", "refund"}


# -- retire ----------------------------------------------------------------------------------------------

def test_retire_needs_deploy_and_stops_new_starts(as_admin, as_alice, alice):
    definition = deploy(ORDER)
    grant(alice, "read", "*")
    assert_error(as_alice.post(f"{API}/definitions/{definition.id}/retire/"), 403, "permission_denied")
    response = as_admin.post(f"{API}/definitions/{definition.id}/retire/")
    assert response.status_code == 200 and response.json()["retired"] is True
    assert_error(as_admin.post(f"{API}/instances/", {"definition_id": definition.id}, format="json"), 409, "conflict")
    assert_error(as_admin.post(f"{API}/definitions/{definition.id + 1000}/retire/"), 404, "not_found")
