"""The corpus conformance scenarios: how each SpiffWorkflow and Camunda file in tests/corpus
runs on Baton, and the outcome it must reach.

Expectations come from the corpus notes (tests/corpus/spiff/EXPECTED.md, the oracles in
tests/corpus/camunda/NOTES.md), adapted to the BPMN 2.0 spec where Baton follows it and the
notes do not. `follows` says whose answer a scenario reproduces, and `why` says in one
sentence where and why Baton's answer differs from the notes'; that text becomes the
conformance report.

Files with an element Baton cannot run yet have one scenario with `supported=False` that
expects the run to fail at that element; the issue that adds the element flips it.

Scenarios run through the simulator: service tasks answer from `Mock`s (or throw a
`BusinessError`), a person completes user tasks (`Complete`), messages and signals arrive
(`Message`, `Signal`), and a virtual clock, started at a fixed time, moves on (`Advance`) so
that due timers fire. Timer values written for Spiff's polling host ("PT0.25S") are reached by
advancing the clock past them, never by waiting.

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
    """Complete the one open user task at `element` with these variables."""

    element: str
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Waiting:
    """Check that exactly these elements hold an open user task or a waiting receive task right now."""

    elements: tuple[str, ...]


@dataclass(frozen=True)
class Message:
    """A message named `name` arrives with these variables; kept until something waits for it."""

    name: str
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Signal:
    """A signal named `name` is broadcast to whatever waits for it now."""

    name: str


@dataclass(frozen=True)
class Advance:
    """The virtual clock moves on by `seconds`; the timers due by then fire, in due order."""

    seconds: float


@dataclass(frozen=True)
class Mock:
    """The answer of plugin `plugin` whenever a service task asks for it (not an action in time)."""

    plugin: str
    result: Mapping[str, Any] | None


@dataclass(frozen=True)
class BusinessError:
    """Plugin `plugin` throws the BPMN error `code` whenever a service task asks for it."""

    plugin: str
    code: str


Action = Union[Complete, Waiting, Message, Signal, Advance, Mock, BusinessError]


# -- the outcome -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    state: str
    """completed | terminated | waiting | failed (an incident is open) | refused (the start raised)"""
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
    times: Mapping[str, int] = field(default_factory=dict)
    """Elements that must have completed exactly this many times: a multi-instance or looped
    activity completes once per inner instance (iteration), then once more as a whole."""
    before: tuple[tuple[str, str], ...] = ()
    """(a, b): every completion of a came before the first completion of b."""
    waiting_at: tuple[str, ...] | None = None
    """The elements tokens wait at when the run stops (joins included)."""
    failed_at: str | None = None
    """An incident is open at this element (or the refused start names it) ..."""
    error: str | None = None
    """... with this text in its message."""
    calls: tuple[tuple[str, Mapping[str, Any] | None], ...] | None = None
    """The service task runs the engine asked for, in order: (plugin, evaluated inputs)."""
    thrown: tuple[tuple[str, str | None], ...] | None = None
    """What the instance sent out, in order: ("message", name), ("signal", name) or
    ("escalation", code) for an escalation nobody in the instance caught."""
    warns: tuple[str, ...] = ()
    """Texts that `validate` must say about the file (as an error or a warning)."""


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
    wall_clock: bool = False
    """Start the virtual clock at the wall clock (for a model whose script reads datetime.now())
    instead of the fixed start time every other scenario uses."""
    library: tuple[str, ...] = ()
    """Other corpus files (relative to tests/corpus) that hold the processes the file's call activities
    call; a process in the file itself is always found. Called processes run in-process to their end."""
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

_MSG_INTERRUPTS = "sid-db1e1749-03ee-46aa-8674-bba07b1bd167"
_MSG_NON_INTERRUPT = "sid-60e2cc58-68c9-4cb5-a95c-22e3e311b6b9"
_MESSAGES = "sid-4a1f10ab-316f-4cd8-836d-65aa3d178fff"

_PAY_RATE = {"amount": "65000.00", "currency": "USD", "id": "4", "payRate": "65000.00 USD"}
_PAY_RATE_INPUTS = {"api_key": "secret:BAMBOOHR_API_KEY", "employee_id": 4, "subdomain": "ServiceTask"}
_PAY_RATE_109 = {"api_key": "secret:BAMBOOHR_API_KEY", "employee_id": "109", "subdomain": "statusdemo"}
_PERF_ITEM = {"status": 0, "reason": None, "alphabet": ["a", "b", "c", "d", "e"],
              "billy_hoel_quote": "I am no longer afraid of becoming lost, because the journey back always reveals "
                                  "something new, and that is ultimately good for the artist."}


def _unsupported(file: str, failed_at: str, error: str, why: str, *, process: str | None = None,
                 follows: str | None = None, variables: Mapping[str, Any] | None = None,
                 actions: tuple[Action, ...] = (), library: tuple[str, ...] = (),
                 bug: str | None = None) -> Scenario:
    """The scenario of a file Baton cannot run (yet): the run fails at `failed_at`."""
    return Scenario(
        file=file, name="unsupported", process=process, supported=False, variables=variables or {}, actions=actions,
        expected=Expected(state="failed", failed_at=failed_at, error=error), follows=follows or file.split("/")[0],
        why=f"not supported yet: {why}" if error == NOT_SUPPORTED else why, library=library, bug=bug,
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
        SPIFF + "spiff__service_task.bpmn", "business error", "service_task_example1",
        Expected("failed", failed_at="Activity-1inxqgx", error="'NOT_FOUND' was not caught",
                 calls=(("bamboohr/GetPayRate", _PAY_RATE_INPUTS),)),
        "spec", "not in the notes: a BPMN error the plugin throws, with no error boundary event or event "
                "sub-process to catch it, opens an incident that names its code (BPMN 2.0 10.5.5)",
        actions=(BusinessError("bamboohr/GetPayRate", "NOT_FOUND"), Mock("weather/CurrentTemp", {"temp": "72F"})),
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
        "spiff", "run standalone with the data bpmn__call_activity_end_event passes in (the call itself is "
                 "scenarios of its own); `del` removes the variable",
        variables={"pre_var": "some string", "remove_this_var": "something else"},
    ),
    Scenario(
        SPIFF + "bpmn__io_spec.bpmn", "caller's data", "subprocess",
        Expected("completed", including={"in_1": 1, "in_2": "hello world", "out_1": 2, "out_2": "HELLO WORLD"}),
        "spiff", "run standalone with the inputs bpmn__io_spec_parent passes in: the called process's own "
                 "outcome (its ioSpecification is ignored, see bpmn__io_spec_parent)",
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
    # -- call activities: the called process runs in-process, found in the file or in `library` ---------------
    Scenario(
        SPIFF + "bpmn__call_activity_end_event.bpmn", "the callee's data comes back", "Process_8200379",
        Expected("completed", including={"pre_var": "some string", "my_var": "World", "my_other_var": "Mike"},
                 completed=("Pre_Data_Script", "Activity_Call_Activity", "Activity_Print_Data_Script")),
        "spiff", "the call activity has no mapping, so the called process gets every variable and its own come "
                 "back (Camunda's variables=\"all\"); Print Data then reads all three",
        library=(SPIFF + "bpmn__call_activity_call_activity.bpmn",),
    ),
    Scenario(
        SPIFF + "bpmn__call_activity_end_event.bpmn", "a variable the callee deletes", "Process_8200379",
        Expected("completed", variables={"pre_var": "some string", "my_var": "World", "my_other_var": "Mike"}),
        "spiff", "the notes' exact data: the callee's `del(remove_this_var)` removes the variable in the caller too",
        library=(SPIFF + "bpmn__call_activity_call_activity.bpmn",),
        bug="the callee's variables are merged back into the caller, so remove_this_var, deleted in the called "
            "process, is still in the caller's final variables ('something else'); the spec has no deletion, and "
            "Camunda's camunda:out variables=\"all\" merges the same way",
    ),
    _unsupported(SPIFF + "bpmn__io_spec_parent.bpmn", "Activity_1wdjypm", NOT_SUPPORTED,
                 "a call activity to a process with an ioSpecification (data inputs in_1, in_2; data outputs "
                 "out_1, out_2): Spiff passes only the inputs in and only the outputs back, so the caller keeps "
                 "unused=True", process="parent", library=(SPIFF + "bpmn__io_spec.bpmn",),
                 bug="Baton neither runs nor refuses the called process's ioSpecification: validate says nothing "
                     "about it, and the call copies every variable both ways, so the run completes with the "
                     "callee's unused=False over the caller's unused=True (in_1=1, in_2='hello world', out_1=2, "
                     "out_2='HELLO WORLD' as in the notes)"),
    Scenario(
        SPIFF + "bpmn__Approvals.bpmn", "Approvals", "Approvals",
        Expected("completed", completed=("Approvals.First_Approval_Wins", "Approvals.First_Approval_Wins_Done",
                                         "Approvals.Manager_Approval__P_", "Approvals.Supervisor_Approval__P_",
                                         "Approvals.Parallel_Approvals_Done", "Approvals.Parallel_SP",
                                         "Approvals.Parallel_SP_Done", "Approvals.End1"),
                 once=("Approvals.Gateway5",),
                 before=(("Approvals.First_Approval_Wins", "Approvals.First_Approval_Wins_Done"),
                         ("Approvals.Parallel_Approvals_Done", "Approvals.Parallel_SP"),
                         ("Approvals.Parallel_SP", "Approvals.Parallel_SP_Done"))),
        "spec", "both called processes are in the file; the terminate end event in First_Approval_Wins ends that "
                "called instance only, and the caller goes on and completes, as in the notes; every approval is a "
                "manual task and passes through, so the notes' one-task-at-a-time sequence collapses into one run "
                "(Spiff: wait states)",
    ),
    _unsupported(SPIFF + "tw__CallActivity-Escalation-Test.bpmn20.xml", "Task_1x5aq4g", "name 'vars' is not defined",
                 "each of the six parallel call activities runs the -Sub process, whose first condition asks "
                 "'should_escalate' in vars(), which the sandbox does not offer (the notes warn about it): every "
                 "call fails with that before any escalation is thrown", process="CallActivity-Escalation-Test",
                 variables={"should_escalate": True},
                 library=(SPIFF + "tw__CallActivity-Escalation-Test-Sub.bpmn20.xml",)),
    # -- multi-instance and standard loops: any_task is an untyped task, so every instance passes through ------
    Scenario(
        SPIFF + "bpmn__parallel_multiinstance_cardinality.bpmn", "loopCardinality 3", "main",
        Expected("completed", variables={"output_data": [None, None, None]}, times={"any_task": 4}),
        "spec", f"three instances, then the activity; {UNTYPED_PASS}, so nothing sets the output item and "
                "output_data collects one None per instance, in instance order (Spiff: the test completes each "
                "instance with output_item = input_item * 2, giving [0, 2, 4]); the item and loopCounter stay "
                "local to each instance",
    ),
    Scenario(
        SPIFF + "bpmn__sequential_multiinstance_cardinality.bpmn", "loopCardinality 3", "main",
        Expected("completed", variables={"output_data": [None, None, None]}, times={"any_task": 4}),
        "spec", f"three instances one after another, then the activity; {UNTYPED_PASS}, so from outside it looks "
                "like the parallel run: output_data holds one None per instance (Spiff: [0, 2, 4]) and nothing "
                "local leaks",
    ),
    Scenario(
        SPIFF + "bpmn__parallel_multiinstance_loop_input.bpmn", "list", "main",
        Expected("completed", variables={"input_data": [1, 2, 3], "output_data": [None, None, None]},
                 times={"any_task": 4}),
        "spec", f"one instance per item; {UNTYPED_PASS}, so output_data collects one None per item (Spiff: "
                "[2, 4, 6]); the items stay local to their instances. Spiff's set input ({1, 2, 3}) has no run "
                "here: start variables are JSON values",
        variables={"input_data": [1, 2, 3]},
    ),
    Scenario(
        SPIFF + "bpmn__parallel_multiinstance_loop_input.bpmn", "dict", "main",
        Expected("completed", variables={"input_data": {"a": 1, "b": 2, "c": 3},
                                         "output_data": {"a": None, "b": None, "c": None}}, times={"any_task": 4}),
        "spec", f"a dict collection gives a dict output under the same keys, in key order; {UNTYPED_PASS}, so "
                "each value is None (Spiff: {'a': 2, 'b': 4, 'c': 6})",
        variables={"input_data": {"a": 1, "b": 2, "c": 3}},
    ),
    Scenario(
        SPIFF + "bpmn__parallel_multiinstance_loop_input.bpmn", "empty list", "main",
        Expected("completed", variables={"input_data": [], "output_data": []}, times={"any_task": 1}),
        "spiff", "no instance at all: the activity completes at once with an empty output_data",
        variables={"input_data": []},
    ),
    Scenario(
        SPIFF + "bpmn__parallel_multiinstance_loop_input.bpmn", "output_data={} given", "main",
        Expected("completed", variables={"input_data": [1, 2, 3], "output_data": [None, None, None]}),
        "spec", "the output collection is what the activity produces (BPMN 2.0 10.3.8, loopDataOutputRef): it "
                "replaces the given value, a list for a list input (Spiff updates the given dict in place: "
                "{0: 2, 1: 4, 2: 6}, and refuses a given non-empty list)",
        variables={"input_data": [1, 2, 3], "output_data": {}},
    ),
    Scenario(
        SPIFF + "bpmn__sequential_multiinstance_loop_input.bpmn", "list", "main",
        Expected("completed", variables={"input_data": [1, 2, 3], "output_data": [None, None, None]},
                 times={"any_task": 4}),
        "spec", f"one instance per item, one after another; {UNTYPED_PASS}, so output_data collects one None per "
                "item (Spiff: [2, 4, 6], one instance ready at a time)",
        variables={"input_data": [1, 2, 3]},
    ),
    Scenario(
        SPIFF + "bpmn__sequential_multiinstance_loop_input.bpmn", "dict", "main",
        Expected("completed", variables={"input_data": {"a": 1, "b": 2, "c": 3},
                                         "output_data": {"a": None, "b": None, "c": None}}, times={"any_task": 4}),
        "spec", f"a dict output under the input's keys, in key order; {UNTYPED_PASS} (Spiff: "
                "{'a': 2, 'b': 4, 'c': 6})",
        variables={"input_data": {"a": 1, "b": 2, "c": 3}},
    ),
    Scenario(
        SPIFF + "bpmn__sequential_multiinstance_loop_input.bpmn", "empty list", "main",
        Expected("completed", variables={"input_data": [], "output_data": []}, times={"any_task": 1}),
        "spiff", "no instance at all: the activity completes at once with an empty output_data",
        variables={"input_data": []},
    ),
    Scenario(
        SPIFF + "bpmn__performance_test.bpmn", "20 items", "Process_3no3Cw9",
        Expected("completed", variables={"items": [_PERF_ITEM] * 20, "items2": [{**_PERF_ITEM, "my_index": 0}] * 20,
                                         "results": [{**_PERF_ITEM, "my_index": 0}] * 20, "i": 0},
                 times={"Activity_1vbjo1h": 21, "Activity_0h7683r": 20}),
        "spiff", "the sequential multi-instance sub-process runs its script once per item: results holds 20 "
                 "dicts with status 0 and my_index 0 (i never changes); my_item and out_item stay local, so "
                 "items is unchanged; the data objects are process variables (Spiff keeps them apart)",
    ),
    Scenario(
        SPIFF + "bpmn__standard_loop.bpmn", "done=False", "main",
        Expected("completed", variables={"done": False}, times={"any_task": 4}),
        "spiff", "loopCondition `not done` always holds, so loopMaximum stops it after exactly 3 iterations (then "
                 "the activity completes); the iterations pass through (Spiff: each waits to be completed)",
        variables={"done": False},
    ),
    Scenario(
        SPIFF + "bpmn__standard_loop.bpmn", "done=True", "main",
        Expected("completed", variables={"done": True}, times={"any_task": 1}),
        "spiff", "testBefore: the condition fails before the first iteration, so there is none and the activity "
                 "completes at once. Spiff's third case (done set to True by the first iteration) needs a person "
                 "to complete an untyped task, which passes through here",
        variables={"done": True},
    ),
    # -- messages: catch events and boundary events (the tw__ files run standalone) --------------------------
    Scenario(
        SPIFF + "tw__Message-Interrupts.bpmn20.xml", "complete the task", _MSG_INTERRUPTS,
        Expected("completed", completed=("Do Something That Takes A Long Time",),
                 not_completed=("Test Message", "Acknowledge Interrupt Message"), waiting_at=()),
        "spiff", "path A: completing the task closes its message boundary event",
        actions=(Waiting(("Do Something That Takes A Long Time",)), Complete("Do Something That Takes A Long Time")),
    ),
    Scenario(
        SPIFF + "tw__Message-Interrupts.bpmn20.xml", "message 'Test Message'", _MSG_INTERRUPTS,
        Expected("completed", completed=("Test Message", "Acknowledge Interrupt Message"),
                 not_completed=("Do Something That Takes A Long Time",), waiting_at=()),
        "spiff", "path B: the message (no messageRef: the event's name) cancels the long task; only the "
                 "acknowledgement is left",
        actions=(Message("Test Message"), Waiting(("Acknowledge Interrupt Message",)),
                 Complete("Acknowledge Interrupt Message")),
    ),
    Scenario(
        SPIFF + "tw__Message-Non-Interrupt.bpmn20.xml", "message 'Test Message'", _MSG_NON_INTERRUPT,
        Expected("completed", completed=("Test Message", "Acknowledge Non-Interrupt Message",
                                         "Do Something That Takes A Long Time"), waiting_at=()),
        "spiff", "the message adds the acknowledgement beside the long task, which stays open; both paths end",
        actions=(Message("Test Message"),
                 Waiting(("Acknowledge Non-Interrupt Message", "Do Something That Takes A Long Time")),
                 Complete("Acknowledge Non-Interrupt Message"), Waiting(("Do Something That Takes A Long Time",)),
                 Complete("Do Something That Takes A Long Time")),
    ),
    Scenario(
        SPIFF + "tw__Messages.bpmn20.xml", "wrong message", _MESSAGES,
        Expected("waiting", variables={}, not_completed=("Test Message",), waiting_at=("Test Message",)),
        "spiff", "a message nobody waits for changes nothing (the simulator keeps it for a later subscriber)",
        actions=(Waiting(()), Message("Wrong Message"), Waiting(())),
    ),
    Scenario(
        SPIFF + "tw__Messages.bpmn20.xml", "wrong, then right message", _MESSAGES,
        Expected("completed", variables={}, once=("Test Message",)),
        "spiff", "the catch event (no messageRef: the event's name) takes the right message and the run "
                 "completes",
        actions=(Message("Wrong Message"), Waiting(()), Message("Test Message")),
    ),
    Scenario(
        SPIFF + "bpmn__collaboration.bpmn", "before the response", "process_buddy",
        Expected("waiting", variables={"lover_name": "Peggy"}, completed=("ActivitySendLetter",),
                 waiting_at=("EventReceiveLetter",), thrown=(("message", "Love Letter"),)),
        "spiff", "the send task (no plugin) sends 'Love Letter' and the catch event waits for 'Love Letter "
                 "Response'",
        variables={"lover_name": "Peggy"},
    ),
    Scenario(
        SPIFF + "bpmn__collaboration.bpmn", "response", "process_buddy",
        Expected("completed", variables={"lover_name": "Peggy", "from_name": "Peggy", "other_nonsense": 1001},
                 completed=("ActivitySendLetter", "EventReceiveLetter"), thrown=(("message", "Love Letter"),)),
        "spiff", "the response's payload is merged into the variables; the simulator correlates by message name "
                 "(the lover correlation key is not checked)",
        variables={"lover_name": "Peggy"},
        actions=(Message("Love Letter Response", {"from_name": "Peggy", "other_nonsense": 1001}),),
    ),
    # -- signals ------------------------------------------------------------------------------------------
    Scenario(
        SPIFF + "bpmn__event-subprocess.bpmn", "signal start_sub", "main",
        Expected("completed", variables={"v1": True, "v2": False}, completed=("Event_1o52hta", "Event_0rfrdxr", "task"),
                 thrown=(("signal", "start_sub"),)),
        "spec", "set_data and task are untyped tasks and pass through, so v1 and v2 are start variables; the "
                "signal the instance throws starts its event sub-process (BPMN 2.0 10.5.6: it is active while "
                "the process is)",
        variables={"v1": True, "v2": False},
    ),
    Scenario(
        SPIFF + "spiff__signal_event_payload.bpmn", "v1=1 v2=2 v3=3", "event_test",
        Expected("completed", variables={"v1": 1, "v2": 2, "v3": 3}, completed=("throw", "catch"),
                 once=("Gateway_0wnznah",), thrown=(("signal", "Signal_1624y58"),)),
        "spec", "set_data is a manual task and passes through, so v1..v3 are start variables; the signal joins "
                "the branches, but Spiff's payload extension (spiffworkflow:payloadExpression/variableName) is "
                "not supported, so there is no result variable (Spiff: result == {'r1': 1, 'r2': 2})",
        variables={"v1": 1, "v2": 2, "v3": 3},
    ),
    Scenario(
        SPIFF + "spiff__signal_event_payload.bpmn", "payload extension", "event_test",
        Expected("completed", variables={"v1": 1, "v2": 2, "v3": 3}, warns=("payloadExpression", "variableName")),
        "spec", "validation says that the signal's Spiff payload extension is not supported",
        variables={"v1": 1, "v2": 2, "v3": 3},
    ),
    # -- errors and escalations ---------------------------------------------------------------------------
    Scenario(
        SPIFF + "spiff__error_event_payload.bpmn", "error=True", "event_test",
        Expected("completed", variables={"error": True, "payload": "ERROR!"}, completed=("throw", "catch"),
                 not_completed=("Activity_1qrttpi", "Event_03ddub8", "Event_1n1i393")),
        "spec", "set_data is an untyped task and passes through, so error and payload are start variables; the "
                "error end event interrupts the sub-process through the boundary event, but Spiff's payload "
                "extension is not supported, so there is no result variable and the variables stay as they are "
                "(Spiff: {'result': 'ERROR!'})",
        variables={"error": True, "payload": "ERROR!"},
    ),
    Scenario(
        SPIFF + "spiff__escalation_event_payload.bpmn", "escalation=True", "event_test",
        Expected("completed", variables={"escalation": True, "payload": "ERROR!"}, completed=("catch",),
                 not_completed=("Activity_1qrttpi", "Event_03ddub8", "Event_1n1i393"), thrown=()),
        "spec", "set_data is an untyped task and passes through, so escalation and payload are start variables; "
                "the escalation end event is caught by the interrupting boundary event, but Spiff's payload "
                "extension is not supported, so there is no result variable (Spiff: {'result': 'ERROR!'})",
        variables={"escalation": True, "payload": "ERROR!"},
    ),
    Scenario(
        SPIFF + "bpmn__uncaught_escalation.bpmn", "no input", "top_level",
        Expected("completed", completed=("Event_0rc21k6", "subprocess", "Event_0yxpeto"),
                 thrown=(("escalation", "escalation-1"),)),
        "spiff", "nobody catches the escalation: the instance goes on and completes, and the escalation is "
                 "reported with its code",
    ),
    # -- timers: Spiff writes them as Python expressions ("PT0.25S"); the virtual clock is advanced past them --
    Scenario(
        SPIFF + "bpmn__timer.bpmn", "before PT0.25S", "timer",
        Expected("waiting", variables={}, not_completed=("Event_0bxivgz",), waiting_at=("Event_0bxivgz",)),
        "spiff", "the timer catch event still waits 0.2 s after the start",
        actions=(Advance(0.2),),
    ),
    Scenario(
        SPIFF + "bpmn__timer.bpmn", "after PT0.25S", "timer",
        Expected("completed", variables={}, once=("Event_0bxivgz",)),
        "spiff", "0.3 s after the start the timer has fired and the run completes",
        actions=(Advance(0.2), Advance(0.1)),
    ),
    Scenario(
        SPIFF + "bpmn__timer-date-start.bpmn", "before futuredate", "date_timer",
        Expected("waiting", completed=("Activity_1q1wged",), waiting_at=("Event_0eb0w95",)),
        "spiff", "the script sets futuredate 0.05 s after the wall clock (datetime.now()), so the virtual clock "
                 "starts at the wall clock; 0.01 s later the timeDate has not come",
        wall_clock=True, actions=(Advance(0.01),),
    ),
    Scenario(
        SPIFF + "bpmn__timer-date-start.bpmn", "after futuredate", "date_timer",
        Expected("completed", once=("Event_0eb0w95",)),
        "spiff", "a second after the wall-clock start the timeDate has passed and the run completes",
        wall_clock=True, actions=(Advance(1),),
    ),
    Scenario(
        SPIFF + "bpmn__timer-cycle.bpmn", "no input", "timer",
        Expected("completed", variables={"refill_count": 0}, completed=("Get_Coffee", "Back_To_Work"),
                 not_completed=("CatchMessage", "Refill_Coffee")),
        "spec", "Get_Coffee is a manual task and passes through (Spiff: a wait state), so its non-interrupting "
                "R2/PT0.1S boundary closes before it is due and Refill_Coffee (which calls Spiff's injected "
                "custom_function) never runs (Spiff: two refills while the task waits)",
        actions=(Advance(0.1), Advance(0.1), Advance(0.1)),
    ),
    Scenario(
        SPIFF + "bpmn__timer-cycle-start.bpmn", "Process_0vaq70r", "Process_0vaq70r",
        Expected("terminated", completed=("wait_timer", "EndItAll")),
        "spec", "Baton runs one process per instance, not the collaboration: the second process waits PT0.5S, "
                "then its terminate end event ends the instance as terminated (Spiff: the collaboration "
                "completes)",
        actions=(Advance(0.3), Advance(0.3)),
    ),
    _unsupported(SPIFF + "bpmn__timer-cycle-start.bpmn", "Refill_Coffee", "custom_function",
                 "the cycle-start process, simulated as started by its timer: the script calls custom_function, "
                 "which Spiff's host injects and Baton's sandbox does not offer", process="timer"),
    Scenario(
        SPIFF + "bpmn__boundary.bpmn", "timer fires", "boundary_event",
        Expected("completed", completed=("Activity_09c27ms", "Event_0iiih8g", "Activity_1ya1db2", "StopCar"),
                 not_completed=("Subworkflow", "Activity_Pester_Dad"), waiting_at=()),
        "spec", "the PT0.03S interrupting timer cancels the sub-process and its open task; Scream head off and "
                "Stop Car are manual tasks and pass through (Spiff: wait states)",
        actions=(Complete("Activity_09c27ms"), Waiting(("Activity_Pester_Dad",)), Advance(0.02),
                 Waiting(("Activity_Pester_Dad",)), Advance(0.02), Waiting(())),
    ),
    Scenario(
        SPIFF + "bpmn__boundary_timer_on_task.bpmn", "timer fires", "test_timer",
        Expected("completed", variables={"timer_called": True}, completed=("Event_0y4hbl0", "set_variable",
                                                                           "user_task", "final_end_event")),
        "spiff", "the non-interrupting timer runs the script beside the user task, which stays open",
        actions=(Waiting(("user_task",)), Advance(0.01), Waiting(("user_task",)), Complete("user_task")),
    ),
    Scenario(
        SPIFF + "bpmn__timer-non-interrupt-boundary.bpmn", "timer fires", "NonInterruptTimer",
        Expected("completed", variables={"work_done": "Yes", "delay_reason": "Just Because"},
                 completed=("Event_0jyy8ao", "GetReason", "Activity_0e5qk4z"), once=("Gateway_19fdoel",)),
        "spiff", "the non-interrupting PT0.2S timer adds GetReason beside the sub-process's open task; the "
                 "parallel join waits for both",
        actions=(Waiting(("Activity_Work",)), Advance(0.1), Waiting(("Activity_Work",)), Advance(0.2),
                 Waiting(("GetReason", "Activity_Work")), Complete("GetReason", {"delay_reason": "Just Because"}),
                 Complete("Activity_Work", {"work_done": "Yes"})),
    ),
    # -- event-based gateway ----------------------------------------------------------------------------
    Scenario(
        SPIFF + "bpmn__event-gateway.bpmn", "message_1", "Process_0pvx19v",
        Expected("completed", completed=("Gateway_1434v9l", "message_1_event", "message_1_end"),
                 not_completed=("message_2_event", "timer_event")),
        "spiff", "the first message wins; the other message and the timer are cancelled",
        actions=(Message("message_1"),),
    ),
    Scenario(
        SPIFF + "bpmn__event-gateway.bpmn", "timer", "Process_0pvx19v",
        Expected("completed", completed=("Gateway_1434v9l", "timer_event", "timer"),
                 not_completed=("message_1_event", "message_2_event")),
        "spiff", "past PT1S the timer wins, and a later message_1 changes nothing",
        actions=(Advance(1.5), Message("message_1")),
    ),
    # -- transaction: cancel and error end events inside, caught by the transaction's boundary events ---------
    Scenario(
        SPIFF + "bpmn__transaction.bpmn", "value='asdf' quantity=2", "Main_Process",
        Expected("completed", variables={"value": "asdf", "quantity": 2},
                 completed=("Subprocess", "Activity_Print_Data"),
                 not_completed=("Catch_Error_1", "Catch_Error_None", "Catch_Cancel_Event")),
        "spiff", "the transaction completes normally and none of its boundary events fires",
        actions=(Complete("Activity_Get_Data", {"value": "asdf"}), Complete("Activity_Get_Quantity", {"quantity": 2})),
    ),
    Scenario(
        SPIFF + "bpmn__transaction.bpmn", "value=''", "Main_Process",
        Expected("completed", variables={"value": "", "reason": "Cancel"},
                 completed=("Catch_Cancel_Event", "Cancel_Action"),
                 not_completed=("Subprocess", "Catch_Error_1", "Catch_Error_None", "Activity_Print_Data")),
        "spec", "the cancel end event cancels the transaction through its cancel boundary event; variables are "
                "process-scoped, so value, set inside the transaction, stays (Spiff discards the transaction's "
                "copy of the data)",
        actions=(Complete("Activity_Get_Data", {"value": ""}),),
    ),
    Scenario(
        SPIFF + "bpmn__transaction.bpmn", "quantity=0", "Main_Process",
        Expected("completed", variables={"value": "asdf", "quantity": 0, "reason": "Error None"},
                 completed=("Error_None", "Catch_Error_None", "Error_None_Action"),
                 not_completed=("Subprocess", "Catch_Error_1", "Catch_Cancel_Event", "Activity_Print_Data")),
        "spiff", "the error end event without an errorRef is caught by the catch-all error boundary",
        actions=(Complete("Activity_Get_Data", {"value": "asdf"}), Complete("Activity_Get_Quantity", {"quantity": 0})),
    ),
    Scenario(
        SPIFF + "bpmn__transaction.bpmn", "quantity=-1", "Main_Process",
        Expected("completed", variables={"value": "asdf", "quantity": -1, "reason": "Error 1"},
                 completed=("Error_1", "Catch_Error_1", "Error_1_Action"),
                 not_completed=("Subprocess", "Catch_Error_None", "Catch_Cancel_Event", "Activity_Print_Data")),
        "spec", "an error is caught once, by the boundary event that names its code before a catch-all one "
                "(BPMN 2.0 10.5.5, and Camunda); Spiff fires both Catch_Error_1 and Catch_Error_None",
        actions=(Complete("Activity_Get_Data", {"value": "asdf"}), Complete("Activity_Get_Quantity", {"quantity": -1})),
    ),
    # -- SpiffWorkflow files with elements Baton cannot run yet ------------------------------------------
    _unsupported(SPIFF + "bpmn__conditional_event.bpmn", "event_1", NOT_SUPPORTED,
                 "conditional intermediate catch event", process="intermediate"),
    _unsupported(SPIFF + "bpmn__custom_function_test.bpmn", "Activity_1y303ko", "custom_function",
                 "the script calls custom_function, which Spiff's host injects and Baton's sandbox does not offer; "
                 "then a call activity", process="top_workflow"),
    _unsupported(SPIFF + "bpmn__custom_function_test_call_activity.bpmn", "Activity_0jv4dsc", "custom_function",
                 "the script calls custom_function, which Spiff's host injects and Baton's sandbox does not offer",
                 process="CallActivityProcess"),
    _unsupported(SPIFF + "bpmn__multiple-throw.bpmn", "Event_0n8a7vh", NOT_SUPPORTED,
                 "throw event with two message definitions", process="initiate"),
    _unsupported(SPIFF + "tw__CallActivity-Escalation-Test-Sub.bpmn20.xml", "ExclusiveGateway_0faf08n", "'vars'",
                 "the first condition asks 'should_escalate' in vars(), which the sandbox does not offer (the notes "
                 "warn about it); escalation end events follow", process="CallActivity-Escalation-Test-Sub"),
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
    Scenario(
        CAMUNDA + "c7examples__loan-granting.bpmn", "scores 7 and 3", "loan_process",
        Expected("completed", variables={"creditScores": [7, 3]},
                 completed=("Task_0v4gadf", "Task_0j0sjlk", "EndEvent_0q9wl5o"), times={"SubProcess_16kr5xn": 3},
                 calls=(("creditScoreChecker", None), ("loanGranter", None), ("requestRejecter", None)),
                 warns=("camunda:inputParameter",)),
        "camunda", "the parallel multi-instance sub-process runs once per credit score with score local to it: "
                   "7 > 5 grants, 3 rejects, then the process ends. The external tasks are mocked as plugins named "
                   "by their topic, the cron timer start is simulated as fired, and the JavaScript input parameter "
                   "is not run (validate says so: not executable)",
        actions=(Mock("creditScoreChecker", {"creditScores": [7, 3]}), Mock("loanGranter", {}),
                 Mock("requestRejecter", {})),
    ),
    Scenario(
        CAMUNDA + "c7examples__loan-granting.bpmn", "no scores", "loan_process",
        Expected("completed", variables={"creditScores": []}, times={"SubProcess_16kr5xn": 1},
                 calls=(("creditScoreChecker", None),)),
        "spec", "not in the notes: an empty collection runs no instance, and the sub-process completes at once",
        actions=(Mock("creditScoreChecker", {"creditScores": []}),),
    ),
    _unsupported(CAMUNDA + "c7examples__order-handling.bpmn", "BoundaryEvent_1y1bvad", NOT_SUPPORTED,
                 "conditional boundary event on a sub-process", process="Order_Process",
                 actions=(Mock("invoiceCreator", {"invoiceId": "INV-1"}),)),
    _unsupported(CAMUNDA + "c7platform__failing-process.bpmn", "ServiceTask_2", NO_PLUGIN,
                 "activiti:expression and activiti:class service tasks", process="FailingProcess"),
    _unsupported(CAMUNDA + "c7platform__InclusiveGatewayTest.testLoop.bpmn20.xml", "A", PYTHON_ONLY,
                 "the loop's script task is Groovy, so Camunda's oracle (counter=1: only 'task C' remains) cannot be "
                 "reproduced", process="inclusiveTestLoop", variables={"counter": 1}),
    Scenario(
        CAMUNDA + "c7platform__EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml", "message",
        "catchSignal",
        Expected("completed", completed=("gw1", "messageEvent", "task3"),
                 not_completed=("signalEvent", "timerEvent", "task1", "task2")),
        "camunda", "testCatchSignalAndMessageAndTimer: the message wins before the PT0S timer is executed; the "
                   "signal subscription and the timer are cancelled and only afterMessage is open",
        actions=(Message("newInvoice"), Waiting(("task3",)), Complete("task3")),
    ),
    Scenario(
        CAMUNDA + "c7platform__EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml", "signal",
        "catchSignal",
        Expected("completed", completed=("gw1", "signalEvent", "task2"),
                 not_completed=("messageEvent", "timerEvent", "task1", "task3")),
        "camunda", "as testCatchSignalCancelsTimer: the signal wins and only afterSignal is open",
        actions=(Signal("alert"), Waiting(("task2",)), Complete("task2")),
    ),
    Scenario(
        CAMUNDA + "c7platform__EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml", "timer",
        "catchSignal",
        Expected("completed", completed=("gw1", "timerEvent", "task1"),
                 not_completed=("messageEvent", "signalEvent", "task2", "task3")),
        "camunda", "as testCatchTimerCancelsSignal: once the clock moves, the PT0S timer wins and only "
                   "afterTimer is open; a later message changes nothing",
        actions=(Advance(1), Waiting(("task1",)), Message("newInvoice"), Waiting(("task1",)), Complete("task1")),
    ),
    _unsupported(CAMUNDA + "c7platform__MultiInstanceTest.testParallelScriptTasksCompletionCondition.bpmn20.xml",
                 "miScriptTask", PYTHON_ONLY, "the ${8} cardinality and the ${nrOfCompletedInstances == 2} "
                 "completion condition are read, but every one of the eight parallel instances is a Groovy script, "
                 "so Camunda's oracle (sum == 2) cannot be reproduced",
                 process="miParallelScriptTaskCompletionCondition"),
    _unsupported(CAMUNDA + "c7platform__CallActivity.testSubProcessDataInputOutput.bpmn20.xml", "callSubProcess",
                 "simulate runs called processes to their end only",
                 "the called simpleSubProcess waits at its user task, and a simulation runs a called process to "
                 "its end or not at all, so Camunda's oracle (subVariable from superVariable in, superVariable "
                 "from subVariable out; then y = x + 5 in, z = y + 5 out) is out of reach here; the running "
                 "system keeps a waiting child (tests/api/instances/test_call_activities.py)",
                 process="subProcessDataInputOutput", variables={"superVariable": "Hello from the super process."},
                 library=(CAMUNDA + "c7platform__simpleSubProcess.bpmn20.xml",)),
    _unsupported(CAMUNDA + "c7platform__StartTimerEventTest.testStartTimerEventSubProcessInParallelMultiInstance"
                           "SubProcessWithNonInterruptingBoundaryTimerEvent.bpmn20.xml", "subprocessServiceTask",
                 NO_PLUGIN, "the parallel multi-instance sub-process opens two user tasks; its non-interrupting "
                 "PT10S boundary ends a path of its own, and when the PT1M timer-start event sub-processes "
                 "interrupt the instances they reach a camunda:class service task (Java), which Baton cannot run",
                 process="process", actions=(Waiting(("userTask", "userTask")), Advance(10),
                                             Waiting(("userTask", "userTask")), Advance(50))),
    Scenario(
        CAMUNDA + "c7platform__JobDefinitionDeploymentTest.testMultipleTimerBoundaryEvents.bpmn20.xml",
        "PT5M fires", "testProcess",
        Expected("completed", completed=("theBoundaryEvent2",),
                 not_completed=("theTask", "theBoundaryEvent1", "theEnd")),
        "spec", "the oracle only counts the two timer job definitions; run: the PT5M boundary fires first (the "
                "timeDate is in 2036), cancels the task and its path ends at once (no outgoing flow)",
        actions=(Waiting(("theTask",)), Advance(299), Waiting(("theTask",)), Advance(1)),
    ),
    Scenario(
        CAMUNDA + "c7platform__JobDefinitionDeploymentTest.testMultipleTimerBoundaryEvents.bpmn20.xml",
        "complete the task", "testProcess",
        Expected("completed", completed=("theTask", "theEnd"),
                 not_completed=("theBoundaryEvent1", "theBoundaryEvent2")),
        "spec", "completing the task closes both timers: moving the clock past them changes nothing",
        actions=(Complete("theTask"), Advance(600)),
    ),
    Scenario(
        CAMUNDA + "c7platform__MessageNonInterruptingBoundaryEventTest.testNestedEvents.bpmn20.xml",
        "first, second, third message", "process",
        Expected("completed", completed=("innerMessageBoundary", "messageBoundary", "receiveTask", "innerEnd1",
                                         "subProcess", "task1", "task2"),
                 not_completed=("innerTask", "innerEnd2"), waiting_at=()),
        "camunda", "testNestedEvents: each non-interrupting boundary adds a task; the receive task's message "
                   "reaches the terminate end, which ends the sub-process with its inner task",
        actions=(Message("firstMessage"), Waiting(("innerTask", "receiveTask")),
                 Message("secondMessage"), Waiting(("innerTask", "receiveTask", "task1")),
                 Message("thirdMessage"), Waiting(("task1", "task2")),
                 Complete("task1"), Complete("task2")),
    ),
    Scenario(
        CAMUNDA + "c7platform__MessageNonInterruptingBoundaryEventTest.testNestedEvents.bpmn20.xml",
        "second, first, third message", "process",
        Expected("completed", completed=("messageBoundary", "innerMessageBoundary", "receiveTask", "subProcess",
                                         "task1", "task2"),
                 not_completed=("innerTask",), waiting_at=()),
        "camunda", "testNestedEventsAnotherExecutionOrder: the same outcome when the outer boundary fires first",
        actions=(Message("secondMessage"), Waiting(("receiveTask", "task1")),
                 Message("firstMessage"), Waiting(("innerTask", "receiveTask", "task1")),
                 Message("thirdMessage"), Waiting(("task1", "task2")),
                 Complete("task1"), Complete("task2")),
    ),
    Scenario(
        CAMUNDA + "c7platform__reviewSalesLead.bpmn20.xml", "not enough information, then enough", "reviewSaledLead",
        Expected("completed", completed=("notEnoughInformationEnd", "catchNotEnoughInformationError",
                                         "provideAdditionalDetails", "subProcessEnd1", "subProcessEnd2",
                                         "storeLeadInCrmSystem", "processEnd")),
        "camunda", "testReviewSalesLeadProcess: the error end event ends the sub-process through its error "
                   "boundary (the other review task is cancelled), and the second review runs to the end; "
                   "storeLeadInCrmSystem is an untyped task and passes through",
        variables={"details": "very interesting", "customerName": "Alfresco"},
        actions=(Waiting(("provideNewSalesLead",)), Complete("provideNewSalesLead"),
                 Waiting(("reviewCustomerRating", "reviewProfitability")),
                 Complete("reviewProfitability", {"notEnoughInformation": True}),
                 Waiting(("provideAdditionalDetails",)), Complete("provideAdditionalDetails"),
                 Waiting(("reviewCustomerRating", "reviewProfitability")),
                 Complete("reviewCustomerRating"), Complete("reviewProfitability", {"notEnoughInformation": False})),
    ),
    Scenario(
        CAMUNDA + "c7platform__reviewSalesLead.bpmn20.xml", "form values 'true', then 'false'", "reviewSaledLead",
        Expected("completed", completed=("notEnoughInformationEnd", "catchNotEnoughInformationError",
                                         "provideAdditionalDetails", "subProcessEnd1", "subProcessEnd2",
                                         "storeLeadInCrmSystem", "processEnd")),
        "camunda", "the oracle's path with the values the enum form field submits (the strings 'true' and "
                   "'false'): the error end event is caught by the sub-process's error boundary",
        variables={"details": "very interesting", "customerName": "Alfresco"},
        actions=(Complete("provideNewSalesLead"), Waiting(("reviewCustomerRating", "reviewProfitability")),
                 Complete("reviewProfitability", {"notEnoughInformation": "true"}),
                 Waiting(("provideAdditionalDetails",)), Complete("provideAdditionalDetails"),
                 Waiting(("reviewCustomerRating", "reviewProfitability")),
                 Complete("reviewCustomerRating"), Complete("reviewProfitability", {"notEnoughInformation": "false"})),
    ),
    _unsupported(CAMUNDA + "c7platform__HistoricActivityInstanceTest.testEvents.bpmn", "ScriptTask_1", PYTHON_ONLY,
                 "the sub-process behind the parallel split starts with a Groovy script task (the timer start is "
                 "simulated as fired; the other branches throw their events, the timer, message and signal catch "
                 "events wait)", process="testEvents"),
    _unsupported(CAMUNDA + "c7platform__complex-process.bpmn", "CallActivity_1",
                 "the called process 'FailingProcess' failed",
                 "no oracle; the call activity runs FailingProcess from c7platform__failing-process, whose "
                 "activiti:class service task is not bound to a plugin, and the same goes for the activiti:class "
                 "and activiti:expression service tasks here (the multi-instance ones fail per instance); the "
                 "JavaScript script task fails too", process="cornercasesProcess",
                 library=(CAMUNDA + "c7platform__failing-process.bpmn",)),
    _unsupported(CAMUNDA + "c7platform__invoice.v2.bpmn", "assignApprover",
                 "businessRuleTask must be bound to a plugin",
                 "DMN business rule task (then a call activity)", process="invoice"),
    Scenario(
        CAMUNDA + "bpmnjs__kitchen-sink.bpmn", "message start", "Process_0k3ryf8",
        Expected("refused", failed_at="Event_1p4tub5", error="the timer has no timeDate, timeDuration or timeCycle"),
        "spec", "a parser-breadth fixture with no oracle, and its timers are empty: the start is refused because "
                "the timer start event of an event sub-process at process level cannot be read (validate says "
                "so too: not executable)",
        supported=False,
    ),
    _unsupported(CAMUNDA + "bpmnmoddle__yaoqiang-event-definitions.bpmn", "ID_UserTimeoutEvent",
                 "cannot wait for this event: timeDate 'DateTime.AddDays(Execution.Created, 1)' could not be "
                 "evaluated", "the user task's non-interrupting timer boundary holds a C# expression, neither ISO "
                 "8601 nor Python, so the timer is refused as unreadable when the task starts (the 1w values sit "
                 "in root timer definitions nothing refers to)", process="ID_Process"),
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
