"""Vendor extensions, each classified: mapped onto Baton, harmless and ignored, or unsupported.

An unsupported extension changes what the process does in the engine it was drawn for
(a Java delegate, a listener, a connector). Running the model without it would silently do
something else, so it makes the process not executable; `validate` says which and where.
"""
from __future__ import annotations

from orchestrator.bpmn import namespaces as ns

MAPPED = "mapped"
IGNORED = "ignored"
UNSUPPORTED = "unsupported"
UNKNOWN = "unknown"

_CAMUNDA = {
    # mapped: Baton reads these
    "type": MAPPED, "topic": MAPPED, "assignee": MAPPED, "candidateGroups": MAPPED,
    "candidateUsers": MAPPED, "formData": MAPPED, "formField": MAPPED, "failedJobRetryTimeCycle": MAPPED,
    "collection": MAPPED, "elementVariable": MAPPED, "calledElementBinding": MAPPED,
    "calledElementVersion": MAPPED, "in": MAPPED, "out": MAPPED,
    "validation": MAPPED, "constraint": MAPPED, "value": MAPPED,
    # harmless: scheduling hints, UI and history settings of Camunda's own
    "asyncBefore": IGNORED, "asyncAfter": IGNORED, "async": IGNORED, "exclusive": IGNORED,
    "historyTimeToLive": IGNORED, "formKey": IGNORED, "formRef": IGNORED, "formRefBinding": IGNORED,
    "formRefVersion": IGNORED, "properties": IGNORED, "property": IGNORED, "initiator": IGNORED,
    "versionTag": IGNORED, "isStartableInTasklist": IGNORED, "jobPriority": IGNORED,
    "taskPriority": IGNORED, "priority": IGNORED, "dueDate": IGNORED, "followUpDate": IGNORED,
    "formProperty": IGNORED, "candidateStarterGroups": IGNORED, "candidateStarterUsers": IGNORED,
    "jobDefinition": IGNORED, "category": IGNORED, "skipExpression": UNSUPPORTED,
    # unsupported: code that runs in the engine the model was drawn for
    "class": UNSUPPORTED, "delegateExpression": UNSUPPORTED, "expression": UNSUPPORTED,
    "executionListener": UNSUPPORTED, "taskListener": UNSUPPORTED, "connector": UNSUPPORTED,
    "field": UNSUPPORTED, "inputOutput": UNSUPPORTED, "inputParameter": UNSUPPORTED,
    "outputParameter": UNSUPPORTED, "script": UNSUPPORTED, "decisionRef": UNSUPPORTED,
    "decisionRefBinding": UNSUPPORTED, "mapDecisionResult": UNSUPPORTED, "resultVariable": MAPPED,
    "variableMappingClass": UNSUPPORTED, "variableMappingDelegateExpression": UNSUPPORTED,
    "caseRef": UNSUPPORTED, "errorEventDefinition": UNSUPPORTED, "taskPriorityExpression": IGNORED,
    "eventListener": UNSUPPORTED,
}

_ZEEBE = {
    "taskDefinition": MAPPED, "subscription": MAPPED, "calledElement": MAPPED,
    "loopCharacteristics": MAPPED, "assignmentDefinition": MAPPED,
    "taskHeaders": IGNORED, "header": IGNORED, "userTaskForm": IGNORED, "formDefinition": IGNORED,
    "properties": IGNORED, "property": IGNORED, "versionTag": IGNORED, "priorityDefinition": IGNORED,
    "taskSchedule": IGNORED, "userTask": IGNORED,
    "ioMapping": UNSUPPORTED, "input": UNSUPPORTED, "output": UNSUPPORTED,
    "script": UNSUPPORTED, "calledDecision": UNSUPPORTED, "executionListeners": UNSUPPORTED,
    "executionListener": UNSUPPORTED, "taskListeners": UNSUPPORTED, "taskListener": UNSUPPORTED,
}

_SPIFF = {
    "serviceTaskOperator": MAPPED, "parameters": MAPPED, "parameter": MAPPED,
    "instructionsForEndUser": IGNORED, "properties": IGNORED, "property": IGNORED,
    "unitTests": IGNORED, "unitTest": IGNORED, "inputJson": IGNORED, "expectedOutputJson": IGNORED,
    "allowGuest": IGNORED, "guestConfirmation": IGNORED,
    "preScript": UNSUPPORTED, "postScript": UNSUPPORTED, "calledDecisionId": UNSUPPORTED,
    "payloadExpression": UNSUPPORTED, "variableName": UNSUPPORTED, "messageVariable": UNSUPPORTED,
    "messagePayload": UNSUPPORTED,
}

_BATON = {"task": MAPPED, "queue": MAPPED, "resultVariable": MAPPED, "timeLimit": MAPPED, "softTimeLimit": MAPPED}

_TABLES = {ns.CAMUNDA: _CAMUNDA, ns.ACTIVITI: _CAMUNDA, ns.FLOWABLE: _CAMUNDA,
           ns.ZEEBE: _ZEEBE, ns.SPIFF: _SPIFF, ns.BATON: _BATON}

# Layout, colour and tool bookkeeping from modellers we know: harmless wherever they appear.
_HARMLESS_NAMESPACES = (
    "http://bpmn.io/schema/bpmn/biocolor/1.0",
    "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
    "http://camunda.org/schema/modeler/1.0",
    "http://www.signavio.com",
    "http://www.yaoqiang.org",
    "http://www.trisotech.com",
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.bizagi.com",
    "http://www.omg.org/spec/DD/20100524/DI",
)


def classify(tag: str) -> str:
    """How Baton treats the extension attribute or element named by this Clark-notation tag."""
    uri, local = ns.split(tag)
    if uri is None or uri == ns.BPMN:
        return IGNORED
    table = _TABLES.get(uri)
    if table is not None:
        return table.get(local, UNKNOWN)
    if any(uri.startswith(harmless) for harmless in _HARMLESS_NAMESPACES) or "signavio" in uri or "trisotech" in uri:
        return IGNORED
    return UNKNOWN
