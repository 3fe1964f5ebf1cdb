"""The BPMN parser: hardened XML reading, namespaces matched by URI, the immutable model keyed
by id, and what it reads from each kind of element (fixtures in models/parser/, real files in
tests/corpus/)."""
from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestrator.bpmn import extensions as ext
from orchestrator.bpmn.model import (
    Bounds, DiagramElement, EventType, Expression, ExpressionLanguage, Extension, Kind, Script,
)
from orchestrator.bpmn.parser import DEFAULT_MAX_BYTES, ParseResult, parse
from orchestrator.errors import BpmnParseError, Severity

MODELS = Path(__file__).parent / "models" / "parser"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"
CORPUS_FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in {".bpmn", ".xml"})

BPMN_URI = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DOCTYPE_REFUSED = "a DOCTYPE is not allowed in a BPMN file (DTDs and entities are refused)"
NOT_BPMN = "not a BPMN 2.0 file: the root element is {root!r}, expected bpmn:definitions in namespace " + BPMN_URI


def _model(name: str) -> ParseResult:
    return parse((MODELS / name).read_bytes())


def _corpus(name: str) -> ParseResult:
    return parse((CORPUS / name).read_bytes())


def _document(body: str, *, prolog: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{prolog}"
        f'<bpmn:definitions xmlns:bpmn="{BPMN_URI}" id="Definitions_1" targetNamespace="http://baton.dev/tests">\n'
        f"{body}"
        "</bpmn:definitions>\n"
    )


@contextmanager
def _http_listener() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A local port that records every connection made to it."""
    connections: list[tuple[str, int]] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            connections.append(peer)
            conn.close()

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    try:
        yield listener.getsockname()[1], connections
    finally:
        stop.set()
        watcher.join()
        listener.close()


@contextmanager
def _watched_file(tmp_path: Path) -> Iterator[tuple[Path, list[bool]]]:
    """A named pipe that records whether anything opened it for reading.

    A reader that opens the pipe blocks until a writer arrives; the watcher is that writer, so
    a parser that reads the file is seen (and released) rather than left hanging.
    """
    fifo = tmp_path / "entity.dtd"
    os.mkfifo(fifo)
    opened: list[bool] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader yet
                time.sleep(0.005)
                continue
            opened.append(True)
            os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield fifo, opened
    finally:
        stop.set()
        watcher.join()


# -- hardening: no DTD, no entities, no network ---------------------------------------------------


@pytest.mark.parametrize("name", ["doctype.bpmn", "xxe.bpmn"])
def test_a_doctype_is_refused_by_name(name: str):
    with pytest.raises(BpmnParseError) as caught:
        _model(name)

    assert caught.value.message == DOCTYPE_REFUSED


def test_a_classic_xxe_is_refused_without_the_file_content():
    with pytest.raises(BpmnParseError) as caught:
        _model("xxe.bpmn")

    assert "root:" not in str(caught.value)
    assert "/bin/" not in str(caught.value)


def test_an_external_entity_is_never_read(tmp_path: Path):
    with _watched_file(tmp_path) as (fifo, opened):
        text = _document(
            '  <bpmn:process id="leak">\n    <bpmn:documentation>&xxe;</bpmn:documentation>\n  </bpmn:process>\n',
            prolog=f'<!DOCTYPE definitions [\n  <!ENTITY xxe SYSTEM "file://{fifo}">\n]>\n',
        )
        with pytest.raises(BpmnParseError) as caught:
            parse(text)

    assert opened == []
    assert caught.value.message == DOCTYPE_REFUSED


def test_billion_laughs_is_refused_without_expansion():
    started = time.monotonic()
    with pytest.raises(BpmnParseError) as caught:
        _model("billion_laughs.bpmn")

    assert time.monotonic() - started < 2
    assert "lollol" not in str(caught.value)


_EMPTY_PROCESS = '  <bpmn:process id="p"/>\n'
_PROCESS_USING_REMOTE = (
    '  <bpmn:process id="p">\n    <bpmn:documentation>&remote;</bpmn:documentation>\n  </bpmn:process>\n'
)


@pytest.mark.parametrize(
    ("prolog", "body"),
    [
        ('<!DOCTYPE definitions SYSTEM "http://127.0.0.1:{port}/bpmn.dtd">\n', _EMPTY_PROCESS),
        ('<!DOCTYPE definitions PUBLIC "-//Evil//DTD BPMN//EN" "http://127.0.0.1:{port}/bpmn.dtd">\n', _EMPTY_PROCESS),
        ('<!DOCTYPE definitions [\n  <!ENTITY % remote SYSTEM "http://127.0.0.1:{port}/e.dtd">\n  %remote;\n]>\n',
         _EMPTY_PROCESS),
        ('<!DOCTYPE definitions [\n  <!ENTITY remote SYSTEM "http://127.0.0.1:{port}/text">\n]>\n',
         _PROCESS_USING_REMOTE),
    ],
    ids=["external-dtd", "public-dtd", "parameter-entity", "general-entity"],
)
def test_an_external_dtd_or_entity_over_http_is_never_fetched(prolog: str, body: str):
    """A libxml2 built with HTTP support would connect to the listener; the parser must not let it."""
    with _http_listener() as (port, connections):
        with pytest.raises(BpmnParseError):
            parse(_document(body, prolog=prolog.format(port=port)))

    assert connections == []


# -- what the file is: size, emptiness, XML, BPMN -------------------------------------------------


def test_the_size_cap_is_checked_before_parsing():
    # Not XML at all, and a DOCTYPE: the size is what is reported, so nothing was parsed.
    with pytest.raises(BpmnParseError) as not_xml:
        parse(b"<" * 101, max_bytes=100)
    with pytest.raises(BpmnParseError) as doctype:
        parse((MODELS / "doctype.bpmn").read_bytes(), max_bytes=100)

    assert not_xml.value.message == "the file is 101 bytes, over the limit of 100 bytes"
    assert not_xml.value.line is None
    size = (MODELS / "doctype.bpmn").stat().st_size
    assert doctype.value.message == f"the file is {size} bytes, over the limit of 100 bytes"


def test_the_default_size_cap_is_five_megabytes_and_the_message_groups_digits():
    with pytest.raises(BpmnParseError) as caught:
        parse(b" " * (DEFAULT_MAX_BYTES + 1))

    assert caught.value.message == "the file is 5,242,881 bytes, over the limit of 5,242,880 bytes"


def test_a_file_exactly_at_the_cap_is_read():
    data = _document('  <bpmn:process id="p"/>\n').encode("utf-8")

    result = parse(data, max_bytes=len(data))

    assert list(result.definitions.processes) == ["p"]


def test_text_is_measured_in_utf8_bytes():
    text = _document(f'  <bpmn:process id="p" name="{"ä" * 100}"/>\n')

    with pytest.raises(BpmnParseError) as caught:
        parse(text, max_bytes=len(text))

    assert caught.value.message == f"the file is {len(text) + 100} bytes, over the limit of {len(text)} bytes"


@pytest.mark.parametrize("data", [b"", "", b"  \n\t ", "\n\n"], ids=["bytes", "str", "blank-bytes", "blank-str"])
def test_an_empty_file_is_refused(data: bytes | str):
    with pytest.raises(BpmnParseError) as caught:
        parse(data)

    assert caught.value.message == "the file is empty"


def test_text_that_is_not_xml_is_refused_with_its_line():
    with pytest.raises(BpmnParseError) as caught:
        parse("approve the invoice, then pay it")

    assert caught.value.line == 1
    assert caught.value.message == "not well-formed XML: Start tag expected, '<' not found, line 1, column 1"


def test_broken_xml_is_refused_with_the_line_of_the_break():
    text = _document(
        '  <bpmn:process id="p">\n'  # line 3
        '    <bpmn:startEvent id="start">\n'  # line 4: never closed
        "  </bpmn:process>\n"  # line 5
    )

    with pytest.raises(BpmnParseError) as caught:
        parse(text)

    assert caught.value.line == 5
    assert caught.value.message == (
        "not well-formed XML: Opening and ending tag mismatch: startEvent line 4 and process, line 5, column 18"
    )
    assert str(caught.value).startswith("line 5: not well-formed XML:")


@pytest.mark.parametrize(
    ("text", "root", "line"),
    [
        ('<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "html", 1),
        (f'<?xml version="1.0"?>\n\n<bpmn:process xmlns:bpmn="{BPMN_URI}" id="p"/>', "bpmn:process", 3),
    ],
    ids=["html", "bpmn-process"],
)
def test_a_root_element_other_than_bpmn_definitions_is_named(text: str, root: str, line: int):
    with pytest.raises(BpmnParseError) as caught:
        parse(text)

    assert caught.value.message == NOT_BPMN.format(root=root)
    assert caught.value.line == line


def test_a_definitions_root_without_the_bpmn_namespace_says_which_namespace_it_needs():
    with pytest.raises(BpmnParseError) as caught:
        parse("<definitions/>")

    assert caught.value.message == (
        "not a BPMN 2.0 file: the root element 'definitions' is in namespace (none), but BPMN 2.0 uses " + BPMN_URI
    )


# -- namespaces: by URI, never by prefix ----------------------------------------------------------

# The same process in every fixture prefix_*.bpmn: id -> (kind, incoming, outgoing, line).
REVIEW_NODES = {
    "start": (Kind.START_EVENT, (), ("to_check",), 4),
    "check": (Kind.USER_TASK, ("to_check",), ("to_decide",), 5),
    "decide": (Kind.EXCLUSIVE_GATEWAY, ("to_decide",), ("to_approved", "to_rejected"), 6),
    "approved": (Kind.END_EVENT, ("to_approved",), (), 7),
    "rejected": (Kind.END_EVENT, ("to_rejected",), (), 8),
}
# id -> (source, target, line, condition as Python)
REVIEW_FLOWS = {
    "to_check": ("start", "check", 9, None),
    "to_decide": ("check", "decide", 10, None),
    "to_approved": ("decide", "approved", 11, "approved"),
    "to_rejected": ("decide", "rejected", 14, None),
}


@pytest.mark.parametrize("prefix", ["bpmn", "bpmn2", "semantic", "model", "default", "mixed"])
def test_the_bpmn_namespace_is_matched_by_uri_whatever_the_prefix(prefix: str):
    result = _model(f"prefix_{prefix}.bpmn")

    definitions = result.definitions
    assert result.problems == []
    assert definitions.id == "Definitions_prefix"
    assert list(definitions.processes) == ["review"]
    process = definitions.process()
    assert process.is_executable is True
    assert {n.id: (n.kind, n.incoming, n.outgoing, n.line) for n in process.flow_nodes.values()} == REVIEW_NODES
    assert {
        f.id: (f.source, f.target, f.line, f.condition.python if f.condition else None)
        for f in process.sequence_flows.values()
    } == REVIEW_FLOWS
    assert process.node("decide").default == "to_rejected"
    assert process.node("check").name == "Check the request"


def test_elements_with_bpmn_names_in_another_namespace_are_not_bpmn():
    """`x:task`, `x:sequenceFlow`, `x:process` and a `bpmn2:` prefix bound to the 2010-05-01 beta URI."""
    result = _model("wrong_namespace.bpmn")

    definitions = result.definitions
    assert list(definitions.processes) == ["real"]
    assert dict(definitions.root_elements) == {}
    process = definitions.process()
    assert list(process.flow_nodes) == ["start", "charge", "end"]
    assert list(process.sequence_flows) == ["to_charge", "to_end"]
    assert process.node("start").event_definitions == ()
    assert process.flow("to_charge").condition is None
    assert process.node("charge").outgoing == ("to_end",)


def test_a_baton_prefix_bound_to_another_uri_is_not_a_plugin_binding():
    charge = _model("wrong_namespace.bpmn").definitions.process().node("charge")

    assert charge.plugin is None
    assert charge.binding is None
    assert charge.extensions == (Extension("baton:task", ext.UNKNOWN, 13),)


def test_the_camunda_prefix_bound_to_the_activiti_uri_is_read_as_camunda():
    process = _model("camunda_prefix_activiti.bpmn").definitions.process()

    work = process.node("work")
    assert (work.plugin, work.binding) == ("t", "camunda-external")
    assert work.extensions == (
        Extension("activiti:type", ext.MAPPED, 7),
        Extension("activiti:topic", ext.MAPPED, 7),
    )
    approve = process.node("approve")
    assert (approve.assignee, approve.candidate_groups) == ("demo", ("accounting",))


def test_camunda_attributes_under_the_activiti_uri_in_the_miwg_corpus():
    """C.1.0 binds `camunda:` to http://activiti.org/bpmn and uses the default namespace for BPMN."""
    process = _corpus("miwg/C.1.0.bpmn").definitions.processes["bpmn-miwg-test-case-c.1.0"]

    assert process.node("prepareBankTransfer").candidate_groups == ("accounting",)
    assert process.node("assignApprover").assignee == "demo"
    assert process.node("approveInvoice").assignee == "${approver}"


# -- the model: immutable, keyed by id, flows in document order ----------------------------------


def test_the_model_is_immutable():
    definitions = _model("service_tasks.bpmn").definitions
    process = definitions.process()
    node = process.node("baton_task")
    spiff = process.node("spiff_operator")

    with pytest.raises(dataclasses.FrozenInstanceError):
        node.plugin = "something.else"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        process.flow_nodes = {}  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        definitions.processes = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        process.flow_nodes["injected"] = node  # type: ignore[index]
    with pytest.raises(TypeError):
        del process.flow_nodes["baton_task"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        process.sequence_flows["injected"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        process.scopes[""] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        definitions.processes["injected"] = process  # type: ignore[index]
    with pytest.raises(TypeError):
        spiff.inputs["url"] = spiff.inputs["timeout"]  # type: ignore[index]
    assert isinstance(node.extensions, tuple)
    assert process.flow_nodes["baton_task"] is node


def test_flows_are_immutable_too():
    flow = _model("prefix_bpmn.bpmn").definitions.process().flow("to_approved")

    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.target = "rejected"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        flow.condition.python = "True"  # type: ignore[misc, union-attr]


def test_flow_nodes_and_flows_are_keyed_by_their_ids():
    process = _model("document_order.bpmn").definitions.process()

    assert all(key == node.id for key, node in process.flow_nodes.items())
    assert all(key == flow.id for key, flow in process.sequence_flows.items())
    assert process.node("inner_task") is process.flow_nodes["inner_task"]
    assert process.flow("f_inner_1") is process.sequence_flows["f_inner_1"]


def test_incoming_and_outgoing_come_from_the_sequence_flows_in_document_order():
    """`<incoming>`/`<outgoing>` children are ignored: `start` names a flow that does not exist."""
    process = _model("document_order.bpmn").definitions.process()

    assert list(process.sequence_flows) == [
        "f_late", "f_inner_1", "f_inner_2", "f_start", "f_inner", "f_from_inner", "f_end",
    ]
    assert process.node("start").outgoing == ("f_start",)
    assert process.node("split").incoming == ("f_start",)
    assert process.node("split").outgoing == ("f_late", "f_inner")
    assert process.node("join").incoming == ("f_late", "f_from_inner")
    assert process.node("inner_task").incoming == ("f_inner_1",)
    assert process.node("inner_task").outgoing == ("f_inner_2",)


def test_lines_are_recorded_on_nodes_and_flows():
    process = _model("document_order.bpmn").definitions.process()

    assert {n.id: n.line for n in process.flow_nodes.values()} == {
        "start": 5, "split": 8, "inner": 11, "inner_start": 12, "inner_task": 13, "inner_end": 14,
        "join": 18, "end": 19,
    }
    assert {f.id: f.line for f in process.sequence_flows.values()} == {
        "f_late": 4, "f_inner_1": 15, "f_inner_2": 16, "f_start": 20, "f_inner": 21, "f_from_inner": 22,
        "f_end": 23,
    }
    assert process.line == 3


EVENT_GATEWAY_FILE = "camunda/c7platform__EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml"


def test_sequence_flows_without_an_id_get_stable_synthetic_ids():
    first = _corpus(EVENT_GATEWAY_FILE).definitions.process()
    again = _corpus(EVENT_GATEWAY_FILE).definitions.process()

    expected = {
        "sequenceFlow_12_1": ("timerEvent", "task1", 12),
        "sequenceFlow_13_2": ("signalEvent", "task2", 13),
        "sequenceFlow_14_3": ("messageEvent", "task3", 14),
        "sequenceFlow_18_4": ("start", "gw1", 18),
        "sequenceFlow_22_5": ("gw1", "signalEvent", 22),
        "sequenceFlow_23_6": ("gw1", "timerEvent", 23),
        "sequenceFlow_24_7": ("gw1", "messageEvent", 24),
        "sequenceFlow_45_8": ("task1", "end", 45),
        "sequenceFlow_46_9": ("task2", "end", 46),
        "sequenceFlow_47_10": ("task3", "end", 47),
    }
    assert {f.id: (f.source, f.target, f.line) for f in first.sequence_flows.values()} == expected
    assert list(again.sequence_flows) == list(first.sequence_flows)
    assert first.node("gw1").outgoing == ("sequenceFlow_22_5", "sequenceFlow_23_6", "sequenceFlow_24_7")
    assert first.node("end").incoming == ("sequenceFlow_45_8", "sequenceFlow_46_9", "sequenceFlow_47_10")
    assert not set(first.sequence_flows) & set(first.flow_nodes)


def test_duplicate_ids_are_reported_with_both_lines():
    result = _model("duplicate_ids.bpmn")

    assert [(p.element, p.line, p.message, p.severity, p.process) for p in result.problems] == [
        ("work", 7, "duplicate id 'work' (first used on line 6)", Severity.ERROR, "duplicates"),
        ("shared", 8, "duplicate id 'shared' (first used on line 3)", Severity.ERROR, "duplicates"),
    ]
    process = result.definitions.process()
    assert process.node("work").name == "first"
    assert process.scopes[""] == ("start", "work", "shared")


# -- service tasks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "kind", "plugin", "binding", "result_variable", "queue"),
    [
        ("baton_task", Kind.SERVICE_TASK, "billing.charge", "baton", "receipt", "slow"),
        ("camunda_external", Kind.SERVICE_TASK, "charge-card", "camunda-external", None, None),
        ("zeebe_job", Kind.SERVICE_TASK, "payment-service", "zeebe", None, None),
        ("spiff_operator", Kind.SERVICE_TASK, "http/GetRequest", "spiff", "response", None),
        ("java_class", Kind.SERVICE_TASK, None, None, None, None),
        ("send_mail", Kind.SEND_TASK, "mail.send", "baton", None, None),
    ],
)
def test_service_task_bindings(element: str, kind: Kind, plugin: str | None, binding: str | None,
                               result_variable: str | None, queue: str | None):
    node = _model("service_tasks.bpmn").definitions.process().node(element)

    assert (node.kind, node.plugin, node.binding, node.result_variable, node.queue) == (
        kind, plugin, binding, result_variable, queue,
    )


def test_spiff_operator_parameters_are_read_as_python_expressions():
    node = _model("service_tasks.bpmn").definitions.process().node("spiff_operator")

    assert dict(node.inputs) == {
        "url": Expression("'https://example.com/' + path", ExpressionLanguage.PYTHON, "'https://example.com/' + path"),
        "timeout": Expression("5", ExpressionLanguage.PYTHON, "5"),
    }
    assert eval(node.inputs["url"].python, {"__builtins__": {}}, {"path": "orders"}) == "https://example.com/orders"


def test_tasks_bound_without_spiff_have_no_declared_inputs():
    process = _model("service_tasks.bpmn").definitions.process()

    assert [process.node(i).inputs for i in ("baton_task", "camunda_external", "zeebe_job")] == [None, None, None]


def test_camunda_class_leaves_the_plugin_unset_and_records_an_unsupported_extension():
    node = _model("service_tasks.bpmn").definitions.process().node("java_class")

    assert node.plugin is None
    assert node.extensions == (Extension("camunda:class", ext.UNSUPPORTED, 26),)


def test_failed_job_retry_time_cycle_is_read_into_retry_cycle():
    process = _model("service_tasks.bpmn").definitions.process()

    assert process.node("with_retries").retry_cycle == "R5/PT10M"
    assert process.node("with_retries").plugin == "t"
    assert process.node("baton_task").retry_cycle is None


def test_external_task_topics_in_the_loan_granting_example():
    process = _corpus("camunda/c7examples__loan-granting.bpmn").definitions.process()

    assert {n.id: n.plugin for n in process.flow_nodes.values() if n.kind is Kind.SERVICE_TASK} == {
        "Task_1lvjtd4": "creditScoreChecker", "Task_0v4gadf": "loanGranter", "Task_0j0sjlk": "requestRejecter",
    }
    # The JavaScript input parameter is an unsupported extension nested in camunda:inputOutput.
    assert [(e.name, e.treatment, e.line) for e in process.node("Task_1lvjtd4").extensions] == [
        ("camunda:type", ext.MAPPED, 5),
        ("camunda:topic", ext.MAPPED, 5),
        ("camunda:inputOutput", ext.UNSUPPORTED, 7),
        ("camunda:inputParameter", ext.UNSUPPORTED, 8),
        ("camunda:script", ext.UNSUPPORTED, 9),
    ]


# -- user tasks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "assignee", "groups", "users", "form_fields"),
    [
        ("camunda_task", "demo", ("accounting", "management", "sales"), ("kermit", "gonzo"), ("amount", "approved")),
        ("owners_in_one_expression", None, ("management", "accountancy"), ("kermit",), None),
        ("owners_in_two_expressions", None, ("sales",), ("gonzo",), None),
        ("nobody", None, (), (), None),
    ],
)
def test_user_task_assignment_and_form_fields(element: str, assignee: str | None, groups: tuple[str, ...],
                                              users: tuple[str, ...], form_fields: tuple[str, ...] | None):
    node = _model("user_tasks.bpmn").definitions.process().node(element)

    assert node.kind is Kind.USER_TASK
    assert (node.assignee, node.candidate_groups, node.candidate_users, node.form_fields) == (
        assignee, groups, users, form_fields,
    )


def test_candidate_groups_and_form_fields_in_the_camunda_corpus():
    process = _corpus("camunda/c7examples__parse-bpmn-process.bpmn").definitions.process()

    assert process.node("userTaskA").candidate_groups == ("management", "accounting")
    assert process.node("userTaskB").assignee == "demo"


def test_a_plain_potential_owner_in_the_miwg_corpus_is_a_group():
    process = _corpus("miwg/C.8.1.bpmn").definitions.process("VacationRequestProcess")

    owned = {n.id: n.candidate_groups for n in process.flow_nodes.values()
             if n.kind is Kind.USER_TASK and n.candidate_groups}
    assert list(owned.values()) == [("manager",)]


# -- scripts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "script"),
    [
        ("no_format", Script("total = price * quantity", "", None)),
        ("python", Script("total = price * quantity", "python", None)),
        ("mime_python", Script("if price < 10:\n    total = 0", "text/x-python", None)),
        ("groovy", Script("def total = price * quantity", "groovy",
                          "scripts in 'groovy' are not supported; Baton runs Python scripts only")),
        ("javascript", Script("var total = price * quantity;", "javascript",
                              "scripts in 'javascript' are not supported; Baton runs Python scripts only")),
    ],
)
def test_script_tasks_run_python_and_name_any_other_language(element: str, script: Script):
    node = _model("scripts.bpmn").definitions.process().node(element)

    assert node.kind is Kind.SCRIPT_TASK
    assert node.script == script


def test_a_script_task_keeps_its_result_variable():
    process = _model("scripts.bpmn").definitions.process()

    assert process.node("mime_python").result_variable == "total"
    assert process.node("python").result_variable is None


def test_a_groovy_script_in_the_camunda_corpus_is_refused_by_language():
    process = _corpus("camunda/c7examples__parse-bpmn-process.bpmn").definitions.process()

    scripts = [n.script for n in process.flow_nodes.values() if n.kind is Kind.SCRIPT_TASK]
    assert [(s.format, s.error) for s in scripts] == [
        ("groovy", "scripts in 'groovy' are not supported; Baton runs Python scripts only"),
    ]


# -- events --------------------------------------------------------------------------------------


def _timer(source: str) -> Expression:
    return Expression(source, ExpressionLanguage.OTHER, None)


def test_timer_values_are_kept_as_written():
    process = _model("events.bpmn").definitions.process()

    cycle = process.node("every_ten_minutes").event_definitions
    date = process.node("at_new_year").event_definitions
    duration = process.node("after_an_hour").event_definitions
    cron = process.node("reminder").event_definitions
    assert [d.type for d in cycle + date + duration + cron] == [EventType.TIMER] * 4
    assert (cycle[0].time_cycle, cycle[0].time_date, cycle[0].time_duration) == (_timer("R3/PT10M"), None, None)
    assert (date[0].time_date, date[0].time_cycle, date[0].time_duration) == (
        _timer("2036-01-01T00:00:00Z"), None, None,
    )
    assert (duration[0].time_duration, duration[0].time_date) == (_timer("PT1H"), None)
    assert cron[0].time_cycle == _timer("0/5 0/1 * 1/1 * ?")


def test_message_terminate_and_none_events():
    process = _model("events.bpmn").definitions.process()

    paid = process.node("paid")
    assert (paid.kind, paid.event_type, paid.event_definitions[0].ref) == (
        Kind.INTERMEDIATE_CATCH_EVENT, EventType.MESSAGE, "payment_received",
    )
    assert process.node("stop_everything").event_type is EventType.TERMINATE
    assert process.node("done").event_type is EventType.NONE
    assert process.node("wait_for_payment").message_ref == "payment_received"
    message = process.node("paid").event_definitions[0].ref
    assert _model("events.bpmn").definitions.root_elements[message].name == "payment received"


def test_boundary_events_are_attached_and_interrupt_unless_told_not_to():
    process = _model("events.bpmn").definitions.process()

    hour, reminder = process.node("after_an_hour"), process.node("reminder")
    assert (hour.kind, hour.attached_to, hour.cancel_activity, hour.line) == (
        Kind.BOUNDARY_EVENT, "wait_for_payment", True, 18,
    )
    assert (reminder.attached_to, reminder.cancel_activity, reminder.line) == ("wait_for_payment", False, 23)
    assert dict(process.boundary_events) == {"wait_for_payment": ("after_an_hour", "reminder")}


def test_event_definitions_in_the_camunda_corpus():
    definitions = _corpus(EVENT_GATEWAY_FILE).definitions
    process = definitions.process()

    assert process.node("timerEvent").event_definitions[0].time_duration == _timer("PT0S")
    assert (process.node("messageEvent").event_type, process.node("messageEvent").event_definitions[0].ref) == (
        EventType.MESSAGE, "invoiceMessage",
    )
    assert (process.node("signalEvent").event_type, process.node("signalEvent").event_definitions[0].ref) == (
        EventType.SIGNAL, "alertSignal",
    )
    assert {r.id: (r.kind, r.name) for r in definitions.root_elements.values()} == {
        "alertSignal": ("signal", "alert"), "invoiceMessage": ("message", "newInvoice"),
    }


def test_boundary_events_in_the_miwg_corpus():
    process = _corpus("miwg/A.3.0.bpmn").definitions.process()

    sub_process = "_1ae31d1b-2559-4f78-a3ec-47986a49db48"
    message, escalation = process.boundary_events[sub_process]
    assert (process.node(message).event_type, process.node(message).cancel_activity) == (EventType.MESSAGE, False)
    assert (process.node(escalation).event_type, process.node(escalation).cancel_activity) == (
        EventType.ESCALATION, True,
    )
    assert process.node(message).attached_to == sub_process


# -- loops ---------------------------------------------------------------------------------------


def test_multi_instance_with_a_camunda_collection():
    loop = _model("loops.bpmn").definitions.process().node("per_reviewer").loop

    assert (loop.kind, loop.is_sequential, loop.collection, loop.element_variable) == (
        "multiInstance", True, "reviewers", "reviewer",
    )
    assert loop.completion_condition == Expression("${approvals ge 2}", ExpressionLanguage.JUEL, "approvals >= 2")
    assert loop.loop_cardinality is None


def test_multi_instance_with_a_loop_cardinality():
    loop = _model("loops.bpmn").definitions.process().node("three_times").loop

    assert (loop.kind, loop.is_sequential, loop.collection) == ("multiInstance", False, None)
    assert loop.loop_cardinality == Expression("3", ExpressionLanguage.PYTHON, "3")


def test_standard_loop_characteristics():
    process = _model("loops.bpmn").definitions.process()

    loop = process.node("until_done").loop
    assert (loop.kind, loop.test_before, loop.loop_maximum) == ("standard", True, 5)
    assert loop.loop_condition == Expression("not done", ExpressionLanguage.PYTHON, "not done")
    assert process.node("once").loop is None


def test_multi_instance_sub_process_in_the_loan_granting_example():
    loop = _corpus("camunda/c7examples__loan-granting.bpmn").definitions.process().node("SubProcess_16kr5xn").loop

    assert (loop.kind, loop.is_sequential, loop.collection, loop.element_variable) == (
        "multiInstance", False, "${creditScores}", "score",
    )


# -- scopes --------------------------------------------------------------------------------------


def test_sub_processes_are_scopes_of_their_own():
    process = _corpus("camunda/c7examples__loan-granting.bpmn").definitions.process()

    inner = ("ExclusiveGateway_12xhuxz", "EndEvent_1alwvtl", "EndEvent_0zj88y0", "StartEvent_01840xx",
             "Task_0v4gadf", "Task_0j0sjlk")
    assert dict(process.scopes) == {
        "": ("Task_1lvjtd4", "SubProcess_16kr5xn", "EndEvent_0q9wl5o", "StartEvent_1"),
        "SubProcess_16kr5xn": inner,
    }
    assert process.node("SubProcess_16kr5xn").children == inner
    assert {process.node(i).scope for i in inner} == {"SubProcess_16kr5xn"}
    assert process.node("SubProcess_16kr5xn").scope is None
    assert process.flow("SequenceFlow_17zmvol").scope == "SubProcess_16kr5xn"
    assert process.flow("SequenceFlow_1pbe3dr").scope is None
    assert process.none_start_event("SubProcess_16kr5xn").id == "StartEvent_01840xx"
    assert process.start_events()[0].id == "StartEvent_1"


def test_a_collapsed_sub_process_without_children_is_an_empty_scope():
    process = _corpus("miwg/A.3.0.bpmn").definitions.process()

    assert process.scopes["_1ae31d1b-2559-4f78-a3ec-47986a49db48"] == ()
    assert process.node("_1ae31d1b-2559-4f78-a3ec-47986a49db48").children == ()


# -- diagrams ------------------------------------------------------------------------------------


def test_shapes_keep_their_bounds_and_edges_their_waypoints():
    diagrams = _corpus("miwg/A.3.0.bpmn").definitions.diagrams

    assert [(d.id, d.name, d.plane_element, len(d.elements)) for d in diagrams] == [
        ("Trisotech_Visio-_6", "A.3.0", "WFP-6-", 18),
    ]
    elements = {e.element: e for e in diagrams[0].elements}
    assert elements["_1ac4b759-40e3-4dfb-b0e3-ad1d201d6c3d"] == DiagramElement(
        "_1ac4b759-40e3-4dfb-b0e3-ad1d201d6c3d", bounds=Bounds(72.0, 295.0, 30.0, 30.0),
    )
    assert elements["_83f6ca65-43f7-496e-a7eb-2a4a2fc28f22"] == DiagramElement(
        "_83f6ca65-43f7-496e-a7eb-2a4a2fc28f22", waypoints=((102.0, 310.0), (145.0, 310.0)),
    )


def test_an_expanded_sub_process_shape():
    diagram = _corpus("camunda/c7examples__loan-granting.bpmn").definitions.diagrams[0]

    shape = next(e for e in diagram.elements if e.element == "SubProcess_16kr5xn")
    assert (shape.bounds, shape.is_expanded) == (Bounds(384.0, 81.0, 530.0, 384.0), True)


def test_several_diagrams_are_all_kept():
    diagrams = _corpus("miwg/C.4.0.bpmn").definitions.diagrams

    assert [(d.name, len(d.elements)) for d in diagrams] == [
        ("Onboarding employee", 55), ("IT", 23), ("Payroll", 18), ("Facilities", 11),
    ]


# -- the corpus ----------------------------------------------------------------------------------


def test_the_corpus_is_all_there():
    assert len(CORPUS_FILES) == 94


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_parses(path: Path):
    result = parse(path.read_bytes())

    assert result.definitions.processes
    for process in result.definitions.processes.values():
        assert all(node.line for node in process.flow_nodes.values())
        assert all(flow.line for flow in process.sequence_flows.values())
        scoped = [i for members in process.scopes.values() for i in members]
        assert sorted(scoped) == sorted(process.flow_nodes)
