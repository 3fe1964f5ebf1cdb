"""The corpus conformance scenarios: how each SpiffWorkflow and Camunda file in tests/corpus
runs on Baton, and the outcome it must reach.

Expectations come from the corpus notes (tests/corpus/spiff/EXPECTED.md, the oracles in
tests/corpus/camunda/NOTES.md), adapted to the BPMN 2.0 spec where Baton follows it and the
notes do not. `follows` says whose answer a scenario reproduces, and `why` says in one
sentence where and why Baton's answer differs from the notes'; that text becomes the
conformance report.

Files with an element Baton cannot run yet have one scenario with `supported=False` that
expects the run to fail at that element; the issue that adds the element flips it.

Elements are named by id, or by their name where the id is a generated `sid-…`
(the `tw__` files); a name must be unique in the process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union

REPORT_KEY = "corpus_conformance"
"""The user property under which each test run leaves its row of the conformance table."""

NOT_SUPPORTED = "not supported yet"
NO_FLOW = "no outgoing sequence flow can be taken"
NO_PLUGIN = "not bound to a plugin"
PYTHON_ONLY = "Baton runs Python scripts only"

# -- actions, applied in order after the start ------------------------------------------------------


@dataclass(frozen=True)
class Complete:
    """Complete the one open user or receive task at `element` with these variables."""

    element: str
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiting:
    """Check that exactly these elements hold an open user or receive task right now."""

    elements: tuple[str, ...]


@dataclass(frozen=True)
class Mock:
    """The answer of plugin `plugin` whenever a service task asks for it."""

    plugin: str
    result: Mapping[str, Any] | None


Action = Union[Complete, Waiting, Mock]


# -- the outcome -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    state: str
    """completed | terminated | waiting | failed"""
    variables: Mapping[str, Any] | None = None
    """The exact final variables, where the notes give them."""
    including: Mapping[str, Any] = field(default_factory=dict)
    """Selected final variables."""
    completed: tuple[str, ...] = ()
    """Elements that must have completed."""
    not_completed: tuple[str, ...] = ()
    """Elements that must never have completed."""
    once: tuple[str, ...] = ()
    """Elements that must have completed exactly once (a join fired once)."""
    before: tuple[tuple[str, str], ...] = ()
    """(a, b): every completion of a came before the first completion of b."""
    waiting_at: tuple[str, ...] | None = None
    """The elements tokens wait at when the run stops (joins included)."""
    failed_at: str | None = None
    """An incident is open at this element ..."""
    error: str | None = None
    """... with this text in its message."""
    calls: tuple[tuple[str, Mapping[str, Any] | None], ...] | None = None
    """The service task runs the engine asked for, in order: (plugin, evaluated inputs)."""


@dataclass(frozen=True)
class Scenario:
    file: str
    """Relative to tests/corpus."""
    name: str
    process: str | None
    expected: Expected
    follows: str
    """spiff | camunda | spec: whose answer `expected` reproduces."""
    why: str
    """Where Baton's answer differs from the notes' and why; or what the scenario shows."""
    supported: bool = True
    variables: Mapping[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()
    bug: str | None = None
    """Set where the engine disagrees with the notes in a way the spec does not explain: the
    scenario keeps the expected answer and is marked xfail until the engine is fixed."""

    @property
    def id(self) -> str:
        stem = self.file.split("/", 1)[1].split(".bpmn", 1)[0]
        return f"{stem}[{self.name}]"


UNTYPED_PASS = "untyped tasks pass through (Spiff: wait states)"

SPIFF = "spiff/"
CAMUNDA = "camunda/"

_PAY_RATE = {"amount": "65000.00", "currency": "USD", "id": "4", "payRate": "65000.00 USD"}
_PAY_RATE_INPUTS = {"api_key": "secret:BAMBOOHR_API_KEY", "employee_id": 4, "subdomain": "ServiceTask"}
_PAY_RATE_109 = {"api_key": "secret:BAMBOOHR_API_KEY", "employee_id": "109", "subdomain": "statusdemo"}


def _unsupported(file: str, failed_at: str, error: str, why: str, *, process: str | None = None,
                 follows: str | None = None, variables: Mapping[str, Any] | None = None,
                 actions: tuple[Action, ...] = (), bug: str | None = None) -> Scenario:
    """The scenario of a file Baton cannot run (yet): the run fails at `failed_at`."""
    return Scenario(
        file=file, name="unsupported", process=process, supported=False, variables=variables or {}, actions=actions,
        expected=Expected(state="failed", failed_at=failed_at, error=error), follows=follows or file.split("/")[0],
        why=f"not supported yet: {why}" if error == NOT_SUPPORTED else why, bug=bug,
    )


SCENARIOS: tuple[Scenario, ...] = (
    # -- SpiffWorkflow: sequences and scripts ----------------------------------------------------------
    Scenario(
        SPIFF + "bpmn__no-tasks.bpmn", "no input", "no_tasks",
        Expected("completed", variables={}),
        "spiff", "completes at once with no data",
    ),
    Scenario(
        SPIFF + "bpmn__ScriptTest.bpmn", "no input", "Process_1l85e0n",
        Expected("completed", variables={
            "testvar": {"a": 1, "b": 2, "new": "Test"},
            "testvar2": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}, {"x": 3, "y": "c"}],
            "sample": ["b", "c"],
        }),
        "spiff", "the function the script defines is not stored as a variable",
    ),
    Scenario(
        SPIFF + "bpmn__task_data_size.bpmn", "no input", "Process_ccz6oq2",
        Expected("completed", variables={"a": "a" * 512, "b": "b" * 512, "c": "c" * 512,
                                         "d": "a" * 512 + "b" * 512 + "c" * 512}),
        "spiff", "process-scoped variables: the data is not copied into every task",
    ),
    # -- exclusive gateway ----------------------------------------------------------------------------
    Scenario(
        SPIFF + "bpmn__exclusive_gateway_no_default.bpmn", "x=1", "NoDefaultGateway",
        Expected("failed", variables={"x": 1}, failed_at="Gateway_CheckValue", error=NO_FLOW),
        "spiff", "no condition holds and there is no default: an incident at the gateway",
        variables={"x": 1},
    ),
    Scenario(
        SPIFF + "bpmn__exclusive_gateway_no_default.bpmn", "x=2", "NoDefaultGateway",
        Expected("terminated", variables={"x": 2}, completed=("Activity_Greater", "Event_End"),
                 not_completed=("Activity_Less",)),
        "spec", f"{UNTYPED_PASS}, and a terminate end event at process level ends the instance as terminated "
                "(Spiff: completed)",
        variables={"x": 2},
    ),
    Scenario(
        SPIFF + "bpmn__exclusive_gateway_no_default.bpmn", "x=0", "NoDefaultGateway",
        Expected("terminated", variables={"x": 0}, completed=("Activity_Less", "Event_End"),
                 not_completed=("Activity_Greater",)),
        "spec", f"{UNTYPED_PASS}, and a terminate end event at process level ends the instance as terminated "
                "(Spiff: completed)",
        variables={"x": 0},
    ),
    Scenario(
        SPIFF + "bpmn__data_object_gateway.bpmn", "val=True", "main",
        Expected("completed", variables={"val": True}, completed=("yes",), not_completed=("no",)),
        "spec", "set_data is an untyped task and passes through, so val is a start variable; data objects are "
                "process variables, so val stays in the final data (Spiff keeps data objects apart)",
        variables={"val": True},
    ),
    Scenario(
        SPIFF + "tw__Parallel-Then-Exclusive.bpmn20.xml", "choice=Yes", "sid-bb9ea2d5-58b6-43c7-8e77-6e28f71106f0",
        Expected("completed", completed=("Parallel Task", "Choice 1", "Yes Task"), not_completed=("No Task",),
                 once=("Done",), before=(("Parallel Task", "Done"), ("Yes Task", "Done"))),
        "spec", f"{UNTYPED_PASS}, so choice is a start variable instead of Choice 1's data; the inclusive join "
                "still waits for both branches",
        variables={"choice": "Yes"},
    ),
    Scenario(
        SPIFF + "tw__Parallel-Then-Exclusive.bpmn20.xml", "choice=No", "sid-bb9ea2d5-58b6-43c7-8e77-6e28f71106f0",
        Expected("completed", completed=("Parallel Task", "No Task"), not_completed=("Yes Task",),
                 once=("Done",), before=(("Parallel Task", "Done"), ("No Task", "Done"))),
        "spec", f"{UNTYPED_PASS}, so choice is a start variable instead of Choice 1's data",
        variables={"choice": "No"},
    ),
    # -- parallel gateway ---------------------------------------------------------------------------
    Scenario(
        SPIFF + "tw__Parallel.camunda.bpmn20.xml", "A, B, C", "Process_1hb021r",
        Expected("completed", variables={"taskA": "taskA", "taskB": "taskB", "taskC": "taskC"},
                 once=("Last Task",)),
        "spiff", "the join waits for all three user tasks; their data meets in the process variables",
        actions=(
            Waiting(("First Task",)),
            Complete("First Task"),
            Waiting(("Parallel Task A", "Parallel Task B", "Parallel Task C")),
            Complete("Parallel Task A", {"taskA": "taskA"}),
            Complete("Parallel Task B", {"taskB": "taskB"}),
            Waiting(("Parallel Task C",)),
            Complete("Parallel Task C", {"taskC": "taskC"}),
            Waiting(("Last Task",)),
            Complete("Last Task"),
        ),
    ),
    Scenario(
        SPIFF + "tw__Parallel-Multiple-Splits-And-Joins.bpmn20.xml", "no input",
        "sid-a90fa1f1-32a9-4a62-8ad4-8820a3fc6cc4",
        Expected("completed", completed=("1", "2", "1A", "1B", "2A", "2B"), once=("1 Done", "2 Done", "Done"),
                 before=(("1A", "1 Done"), ("1B", "1 Done"), ("2A", "2 Done"), ("2B", "2 Done"),
                         ("1 Done", "Done"), ("2 Done", "Done"))),
        "spec", f"{UNTYPED_PASS}, so the run completes at once and the completion orders of the notes collapse "
                "into one; each join still fires once, after its branches",
    ),
    Scenario(
        SPIFF + "tw__Parallel-One-Path-Ends.bpmn20.xml", "choice=No", "sid-33b2dda8-ca46-47ca-9f08-43de73abde9e",
        Expected("completed", completed=("Parallel Task", "Choice 1"), not_completed=("Yes Task",), once=("Done",),
                 before=(("Parallel Task", "Done"),)),
        "spec", f"{UNTYPED_PASS}, so choice is a start variable; the inclusive join fires once the ended branch "
                "can no longer reach it",
        variables={"choice": "No"},
    ),
    Scenario(
        SPIFF + "tw__Parallel-One-Path-Ends.bpmn20.xml", "choice=Yes", "sid-33b2dda8-ca46-47ca-9f08-43de73abde9e",
        Expected("completed", completed=("Parallel Task", "Yes Task"), once=("Done",),
                 before=(("Parallel Task", "Done"), ("Yes Task", "Done"))),
        "spec", f"{UNTYPED_PASS}, so choice is a start variable instead of Choice 1's data",
        variables={"choice": "Yes"},
    ),
    Scenario(
        SPIFF + "bpmn__gateway_loop_input.bpmn", "no input", "main",
        Expected("waiting", variables={"x": 0}, completed=("set",), not_completed=("increment", "task"),
                 waiting_at=("parallel",)),
        "spec", "a parallel join waits for a token on every incoming flow, and the loop-back flow can only "
                "deliver one after the join fired: a deadlock (Spiff ignores inputs it cannot reach yet and "
                "completes with x == 2)",
    ),
    # -- inclusive gateway ---------------------------------------------------------------------------
    Scenario(
        SPIFF + "bpmn__inclusive_gateway.bpmn", "v=-1 u=-1 w=-1", "main",
        Expected("completed", variables={"v": 0, "u": -1, "w": -1}, completed=("increment_v",),
                 not_completed=("u_plus_v", "w_plus_v")),
        "spiff", "only the default flow is taken",
        actions=(Complete("set_data", {"v": -1, "u": -1, "w": -1}),),
    ),
    Scenario(
        SPIFF + "bpmn__inclusive_gateway.bpmn", "v=0 u=1 w=1", "main",
        Expected("completed", variables={"v": 0, "u": 1, "w": 1}, completed=("u_plus_v", "w_plus_v"),
                 not_completed=("increment_v",), once=("second",)),
        "spiff", "both conditional flows are taken and the default is not; the join fires once",
        actions=(Complete("set_data", {"v": 0, "u": 1, "w": 1}),),
    ),
    Scenario(
        SPIFF + "bpmn__inclusive_gateway.bpmn", "v=0 u=-1 w=-1", "main",
        Expected("failed", variables={"v": 1, "u": -1, "w": -1}, completed=("increment_v",),
                 failed_at="second", error=NO_FLOW),
        "spiff", "the default flow sets v = 1, and no flow of the second gateway holds",
        actions=(Complete("set_data", {"v": 0, "u": -1, "w": -1}),),
    ),
    # -- start events --------------------------------------------------------------------------------
    Scenario(
        SPIFF + "bpmn__start_event_split.bpmn", "message_1", "main",
        Expected("completed", completed=("start_1", "any_task"), not_completed=("start_2",)),
        "spec", f"the simulator starts at the first message start event as if message_1 had arrived; any_task is "
                f"an untyped task and passes through (Spiff: a wait state)",
    ),
    # -- service tasks (spiffworkflow:serviceTaskOperator) -------------------------------------------------
    Scenario(
        SPIFF + "spiff__service_task.bpmn", "calls", "service_task_example1",
        Expected("completed", including={"waynesboroWeatherResult": {"temp": "72F"}},
                 calls=(("bamboohr/GetPayRate", _PAY_RATE_INPUTS), ("weather/CurrentTemp", {"zipcode": 22980}))),
        "spiff", "the operator parameters are evaluated as Python expressions and sent as the plugin's inputs",
        actions=(Mock("bamboohr/GetPayRate", _PAY_RATE), Mock("weather/CurrentTemp", {"temp": "72F"})),
    ),
    Scenario(
        SPIFF + "spiff__service_task.bpmn", "default result variable", "service_task_example1",
        Expected("completed", including={"spiff__Activity_1inxqgx_result": _PAY_RATE}),
        "spiff", "a spiff service task without resultVariable stores its result as spiff__<id>_result",
        actions=(Mock("bamboohr/GetPayRate", _PAY_RATE), Mock("weather/CurrentTemp", {"temp": "72F"})),
    ),
    Scenario(
        SPIFF + "spiff__service_task_variable.bpmn", "calls", "Process_bd2e724555",
        Expected("completed", including={"employeeID": "109"}, calls=(("bamboohr/GetPayRate", _PAY_RATE_109),)),
        "spiff", "the employee_id parameter is the expression employeeID, evaluated against the variables",
        actions=(Mock("bamboohr/GetPayRate", _PAY_RATE),),
    ),
    Scenario(
        SPIFF + "spiff__service_task_variable.bpmn", "default result variable", "Process_bd2e724555",
        Expected("completed", including={"spiff__Activity_0xhr131_result": _PAY_RATE}),
        "spiff", "a spiff service task without resultVariable stores its result as spiff__<id>_result",
        actions=(Mock("bamboohr/GetPayRate", _PAY_RATE),),
    ),
    # -- processes that the notes reach through a call activity, run standalone -----------------------------
    Scenario(
        SPIFF + "bpmn__call_activity_call_activity.bpmn", "caller's data", "Call_Activity_Get_Data",
        Expected("completed", variables={"pre_var": "some string", "my_var": "World", "my_other_var": "Mike"}),
        "spiff", "run standalone with the data bpmn__call_activity_end_event passes in (call activities are not "
                 "supported yet); `del` removes the variable",
        variables={"pre_var": "some string", "remove_this_var": "something else"},
    ),
    Scenario(
        SPIFF + "bpmn__io_spec.bpmn", "caller's data", "subprocess",
        Expected("completed", including={"in_1": 1, "in_2": "hello world", "out_1": 2, "out_2": "HELLO WORLD"}),
        "spiff", "run standalone with the inputs bpmn__io_spec_parent passes in (call activities are not supported "
                 "yet)",
        variables={"in_1": 1, "in_2": "hello world"},
    ),
    Scenario(
        SPIFF + "bpmn__Approvals.bpmn", "First_Approval_Wins", "First_Approval_Wins",
        Expected("terminated"),
        "spec", "run standalone: the manual approvals pass through and the first to reach its terminate end "
                "event ends the instance as terminated (Spiff, called from Approvals: the call activity completes)",
    ),
    Scenario(
        SPIFF + "bpmn__Approvals.bpmn", "Parallel_Approvals_SP", "Parallel_Approvals_SP",
        Expected("completed", completed=("Parallel_Approvals_SP.Step1", "Parallel_Approvals_SP.Supervisor_Approval",
                                         "Parallel_Approvals_SP.Manager_Approval")),
        "spec", "run standalone: manual tasks pass through (Spiff: wait states)",
    ),
    # -- SpiffWorkflow files with elements Baton cannot run yet ------------------------------------------
    _unsupported(SPIFF + "bpmn__Approvals.bpmn", "Approvals.First_Approval_Wins", NOT_SUPPORTED,
                 "call activity", process="Approvals"),
    _unsupported(SPIFF + "bpmn__boundary.bpmn", "Event_0iiih8g", NOT_SUPPORTED, "timer boundary event",
                 process="boundary_event", actions=(Complete("Activity_09c27ms"),)),
    _unsupported(SPIFF + "bpmn__boundary_timer_on_task.bpmn", "Event_0y4hbl0", NOT_SUPPORTED,
                 "non-interrupting timer boundary event", process="test_timer"),
    _unsupported(SPIFF + "bpmn__call_activity_end_event.bpmn", "Activity_Call_Activity", NOT_SUPPORTED,
                 "call activity", process="Process_8200379"),
    _unsupported(SPIFF + "bpmn__collaboration.bpmn", "ActivitySendLetter", "sendTask must be bound to a plugin",
                 "send task throwing a message, then a message catch event", process="process_buddy",
                 variables={"lover_name": "Peggy"}),
    _unsupported(SPIFF + "bpmn__conditional_event.bpmn", "event_1", NOT_SUPPORTED,
                 "conditional intermediate catch event", process="intermediate"),
    _unsupported(SPIFF + "bpmn__custom_function_test.bpmn", "Activity_1y303ko", "custom_function",
                 "the script calls custom_function, which Spiff's host injects and Baton's sandbox does not offer; "
                 "then a call activity", process="top_workflow"),
    _unsupported(SPIFF + "bpmn__custom_function_test_call_activity.bpmn", "Activity_0jv4dsc", "custom_function",
                 "the script calls custom_function, which Spiff's host injects and Baton's sandbox does not offer",
                 process="CallActivityProcess"),
    _unsupported(SPIFF + "bpmn__event-gateway.bpmn", "Gateway_1434v9l", NOT_SUPPORTED, "event-based gateway",
                 process="Process_0pvx19v"),
    _unsupported(SPIFF + "bpmn__event-subprocess.bpmn", "Event_1o52hta", NOT_SUPPORTED,
                 "signal throw event starting an event sub-process; set_data passes through, so v1 and v2 are start "
                 "variables", process="main", variables={"v1": True, "v2": False}),
    _unsupported(SPIFF + "bpmn__io_spec_parent.bpmn", "Activity_1wdjypm", NOT_SUPPORTED,
                 "call activity with an ioSpecification", process="parent"),
    _unsupported(SPIFF + "bpmn__multiple-throw.bpmn", "Event_0n8a7vh", NOT_SUPPORTED,
                 "throw event with two message definitions", process="initiate"),
    _unsupported(SPIFF + "bpmn__parallel_multiinstance_cardinality.bpmn", "any_task", NOT_SUPPORTED,
                 "parallel multi-instance task", process="main"),
    _unsupported(SPIFF + "bpmn__parallel_multiinstance_loop_input.bpmn", "any_task", NOT_SUPPORTED,
                 "parallel multi-instance task over input_data", process="main",
                 variables={"input_data": [1, 2, 3]}),
    _unsupported(SPIFF + "bpmn__performance_test.bpmn", "Activity_1vbjo1h", NOT_SUPPORTED,
                 "sequential multi-instance sub-process", process="Process_3no3Cw9"),
    _unsupported(SPIFF + "bpmn__sequential_multiinstance_cardinality.bpmn", "any_task", NOT_SUPPORTED,
                 "sequential multi-instance task", process="main"),
    _unsupported(SPIFF + "bpmn__sequential_multiinstance_loop_input.bpmn", "any_task", NOT_SUPPORTED,
                 "sequential multi-instance task over input_data", process="main",
                 variables={"input_data": [1, 2, 3]}),
    _unsupported(SPIFF + "bpmn__standard_loop.bpmn", "any_task", NOT_SUPPORTED, "standard loop",
                 process="main", variables={"done": False}),
    _unsupported(SPIFF + "bpmn__timer-cycle-start.bpmn", "wait_timer", NOT_SUPPORTED,
                 "timer catch event in the second process of a collaboration with a timer-cycle start",
                 process="Process_0vaq70r"),
    _unsupported(SPIFF + "bpmn__timer-cycle.bpmn", "CatchMessage", NOT_SUPPORTED,
                 "non-interrupting timer-cycle boundary event", process="timer"),
    _unsupported(SPIFF + "bpmn__timer-date-start.bpmn", "Event_0eb0w95", NOT_SUPPORTED,
                 "timer catch event with a timeDate", process="date_timer"),
    _unsupported(SPIFF + "bpmn__timer-non-interrupt-boundary.bpmn", "Event_0jyy8ao", NOT_SUPPORTED,
                 "non-interrupting timer boundary event on a sub-process", process="NonInterruptTimer"),
    _unsupported(SPIFF + "bpmn__timer.bpmn", "Event_0bxivgz", NOT_SUPPORTED, "timer catch event",
                 process="timer"),
    _unsupported(SPIFF + "bpmn__transaction.bpmn", "Catch_Error_1", NOT_SUPPORTED,
                 "transaction with cancel and error events", process="Main_Process"),
    _unsupported(SPIFF + "bpmn__uncaught_escalation.bpmn", "Event_0rc21k6", NOT_SUPPORTED,
                 "escalation end event", process="top_level"),
    _unsupported(SPIFF + "spiff__error_event_payload.bpmn", "catch", NOT_SUPPORTED,
                 "error end event caught by a boundary event; set_data passes through, so its data are start "
                 "variables", process="event_test", variables={"error": True, "payload": "ERROR!"}),
    _unsupported(SPIFF + "spiff__escalation_event_payload.bpmn", "catch", NOT_SUPPORTED,
                 "escalation end event caught by a boundary event; set_data passes through, so its data are start "
                 "variables", process="event_test", variables={"escalation": True, "payload": "ERROR!"}),
    _unsupported(SPIFF + "spiff__signal_event_payload.bpmn", "throw", NOT_SUPPORTED,
                 "signal throw and catch events between parallel branches", process="event_test",
                 variables={"v1": 1, "v2": 2, "v3": 3}),
    _unsupported(SPIFF + "tw__CallActivity-Escalation-Test.bpmn20.xml", "BoundaryEvent_0qerug4", NOT_SUPPORTED,
                 "call activities with escalation boundary events", process="CallActivity-Escalation-Test",
                 variables={"should_escalate": True}),
    _unsupported(SPIFF + "tw__CallActivity-Escalation-Test-Sub.bpmn20.xml", "ExclusiveGateway_0faf08n", "'vars'",
                 "the first condition asks 'should_escalate' in vars(), which the sandbox does not offer (the notes "
                 "warn about it); escalation end events follow", process="CallActivity-Escalation-Test-Sub"),
    _unsupported(SPIFF + "tw__Message-Interrupts.bpmn20.xml", "Test Message", NOT_SUPPORTED,
                 "interrupting message boundary event", process="sid-db1e1749-03ee-46aa-8674-bba07b1bd167"),
    _unsupported(SPIFF + "tw__Message-Non-Interrupt.bpmn20.xml", "Test Message", NOT_SUPPORTED,
                 "non-interrupting message boundary event", process="sid-60e2cc58-68c9-4cb5-a95c-22e3e311b6b9"),
    _unsupported(SPIFF + "tw__Messages.bpmn20.xml", "Test Message", NOT_SUPPORTED, "message catch event",
                 process="sid-4a1f10ab-316f-4cd8-836d-65aa3d178fff"),
    # -- Camunda and Flowable -------------------------------------------------------------------------------
    Scenario(
        CAMUNDA + "c7platform__simpleSubProcess.bpmn20.xml", "complete task", "simpleSubProcess",
        Expected("completed", completed=("task", "theEnd")),
        "camunda", "the callee of CallActivity.testSubProcessDataInputOutput, run standalone: one user task",
        actions=(Waiting(("task",)), Complete("task")),
    ),
    Scenario(
        CAMUNDA + "c7platform__reviewInvoice.bpmn", "assign and review", "ReviewInvoice",
        Expected("completed", variables={"reviewer": "demo", "clarified": True},
                 completed=("assignReviewer", "reviewInvoice")),
        "camunda", "the callee of invoice.v2, run standalone: two user tasks in sequence",
        actions=(Waiting(("assignReviewer",)), Complete("assignReviewer", {"reviewer": "demo"}),
                 Waiting(("reviewInvoice",)), Complete("reviewInvoice", {"clarified": True})),
    ),
    _unsupported(CAMUNDA + "c7examples__TwitterDemoProcess.bpmn", "service_task_publish_on_twitter", NO_PLUGIN,
                 "the #{approved} condition routes the token, then a camunda:delegateExpression names a Java bean; "
                 "Baton runs plugins (baton:task)", process="TwitterDemoProcess",
                 actions=(Complete("user_task_review_tweet", {"approved": True}),)),
    _unsupported(CAMUNDA + "c7examples__invokeRestService.bpmn", "ServiceTask_1", NO_PLUGIN,
                 "camunda:connector (http-connector) service task", process="holiday"),
    _unsupported(CAMUNDA + "c7examples__parse-bpmn-process.bpmn", "serviceTask", NO_PLUGIN,
                 "camunda:expression service task, then a Groovy script", process="testProcess"),
    _unsupported(CAMUNDA + "c7examples__loan-granting.bpmn", "SubProcess_16kr5xn", NOT_SUPPORTED,
                 "parallel multi-instance sub-process over creditScores (the external task is mocked; the cron "
                 "timer start is simulated as fired)", process="loan_process",
                 actions=(Mock("creditScoreChecker", {"creditScores": [7, 3]}),)),
    _unsupported(CAMUNDA + "c7examples__order-handling.bpmn", "BoundaryEvent_1y1bvad", NOT_SUPPORTED,
                 "conditional boundary event on a sub-process", process="Order_Process",
                 actions=(Mock("invoiceCreator", {"invoiceId": "INV-1"}),)),
    _unsupported(CAMUNDA + "c7platform__failing-process.bpmn", "ServiceTask_2", NO_PLUGIN,
                 "activiti:expression and activiti:class service tasks", process="FailingProcess"),
    _unsupported(CAMUNDA + "c7platform__InclusiveGatewayTest.testLoop.bpmn20.xml", "A", PYTHON_ONLY,
                 "the loop's script task is Groovy, so Camunda's oracle (counter=1: only 'task C' remains) cannot be "
                 "reproduced", process="inclusiveTestLoop", variables={"counter": 1}),
    _unsupported(CAMUNDA + "c7platform__MultiInstanceTest.testParallelScriptTasksCompletionCondition.bpmn20.xml",
                 "miScriptTask", NOT_SUPPORTED, "parallel multi-instance Groovy script task",
                 process="miParallelScriptTaskCompletionCondition"),
    _unsupported(CAMUNDA + "c7platform__EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml", "gw1",
                 NOT_SUPPORTED, "event-based gateway racing a signal, a message and a timer", process="catchSignal",
                ),
    _unsupported(CAMUNDA + "c7platform__CallActivity.testSubProcessDataInputOutput.bpmn20.xml", "callSubProcess",
                 NOT_SUPPORTED, "call activity with camunda:in/out", process="subProcessDataInputOutput",
                ),
    _unsupported(CAMUNDA + "c7platform__StartTimerEventTest.testStartTimerEventSubProcessInParallelMultiInstance"
                           "SubProcessWithNonInterruptingBoundaryTimerEvent.bpmn20.xml", "timerBoundary",
                 NOT_SUPPORTED, "parallel multi-instance sub-process", process="process"),
    _unsupported(CAMUNDA + "c7platform__JobDefinitionDeploymentTest.testMultipleTimerBoundaryEvents.bpmn20.xml",
                 "theBoundaryEvent1", NOT_SUPPORTED, "two timer boundary events on a user task",
                 process="testProcess",),
    _unsupported(CAMUNDA + "c7platform__MessageNonInterruptingBoundaryEventTest.testNestedEvents.bpmn20.xml",
                 "messageBoundary", NOT_SUPPORTED, "non-interrupting message boundary events on a sub-process "
                 "and on its receive task", process="process"),
    _unsupported(CAMUNDA + "c7platform__HistoricActivityInstanceTest.testEvents.bpmn", "intermediateTimerCatchEvent",
                 NOT_SUPPORTED, "timer, message and signal catch events after a parallel split (the timer start is "
                 "simulated as fired)", process="testEvents"),
    _unsupported(CAMUNDA + "c7platform__complex-process.bpmn", "CallActivity_1", NOT_SUPPORTED,
                 "call activity, multi-instance, transaction and compensation, next to unbound service tasks",
                 process="cornercasesProcess"),
    _unsupported(CAMUNDA + "c7platform__invoice.v2.bpmn", "assignApprover",
                 "businessRuleTask must be bound to a plugin",
                 "DMN business rule task (then a call activity)", process="invoice"),
    _unsupported(CAMUNDA + "c7platform__reviewSalesLead.bpmn20.xml", "catchNotEnoughInformationError", NOT_SUPPORTED,
                 "error end event in a sub-process caught by an error boundary event: the token fails at the "
                 "boundary event as it enters the sub-process", process="reviewSaledLead",
                 actions=(Complete("provideNewSalesLead", {"customerName": "Acme", "details": "big"}),)),
    Scenario(
        CAMUNDA + "bpmnjs__kitchen-sink.bpmn", "message start", "Process_0k3ryf8",
        Expected("completed", completed=("Event_0m5cdgr",)),
        "spec", "a parser-breadth fixture with no oracle: the simulated message start has no outgoing flow and "
                "nothing else is connected to it, so no unsupported element is reached",
        supported=False,
    ),
    _unsupported(CAMUNDA + "bpmnmoddle__yaoqiang-event-definitions.bpmn", "ID_UserTimeoutEvent", NOT_SUPPORTED,
                 "non-interrupting timer boundary event with a non-ISO duration", process="ID_Process"),
    _unsupported(CAMUNDA + "flowable__EventSubProcessWithBoundaryEventsTest.testTimerBoundaryEvent.bpmn20.xml",
                 "scriptTask", PYTHON_ONLY, "a Groovy script throwing a BpmnError into an error event sub-process",
                 process="eventSubProcessWithBoundary"),
    _unsupported(CAMUNDA + "flowable__TimerJobQueryTest.bpmn20.xml", "task3", NO_PLUGIN,
                 "flowable:expression service task next to user tasks with timer boundary events",
                 process="timerJobQueryTest"),
    _unsupported(CAMUNDA + "flowable__invalidProcess.bpmn20.xml", "serviceTaskWithWrongResultVariableUsage", NO_PLUGIN,
                 "invalid on purpose (the validation test covers it); the first start leads to a service task with "
                 "no implementation Baton can run", process="invalidProcess"),
)
