"""Soundness check: can a process deadlock, run part of itself twice, or hold dead nodes?

Validation judges each element on its own; these problems only show when tokens move. So this
module explores the token state space of each scope (the process level, and the inner flow of
every sub-process as a net of its own, the sub-process being a black box in its parent) and
reports, as warnings since a modeller may know better:

1. a parallel (or inclusive) join that can deadlock: a reachable state in which tokens wait at
   the join, it can never get its missing tokens, and nothing else can move;
2. a lack of synchronisation: a reachable state in which two tokens sit at once before a node
   that does not join them (an exclusive merge, a task with two incoming flows), or two tokens
   on the same sequence flow, so that what follows runs more than once;
3. flow nodes that can never be reached from a start event.

The semantics, chosen to be simple rather than exact (time, data and messages are abstracted
away, so every condition and every event is a free choice):

- a marking is a multiset of tokens on the sequence flows of one scope (plus one entry place per
  start event, or per node without incoming flow where a scope has no start event);
- exclusive and event-based gateways take one outgoing flow of their choice (the default flow is
  one of them); a parallel gateway, a start event and any other event take all;
- an inclusive gateway takes its unconditional flows plus any subset of its conditional ones,
  the default flow alone when that leaves nothing; an activity the same, except that its
  unconditional flows are always taken and the default joins them when no condition holds;
  with more than `MAX_FREE_CONDITIONS` conditional flows only single flows, none and all are
  tried (fewer behaviours, never a false claim);
- a parallel join needs a token on every incoming flow; an inclusive join fires when it has a
  token and no token elsewhere in the scope can still reach one of its empty incoming flows
  (BPMN 2.0 section 13.3.4); everything else passes every token through on its own;
- an activity (task, call activity, sub-process) moves its token in one step; an interrupting
  boundary event is an alternative exit, a non-interrupting one adds its own token to the
  normal exit; compensation boundary events never fire;
- end events consume; terminate, error and cancel end events empty the scope; a link throw
  event jumps to the outgoing flows of the catch event with the same link name;
- a successor in which one flow would hold more than `TOKEN_CAP` tokens is not explored (two
  tokens on one flow is already reported: loops stay finite), and the whole check stops after
  `max_states` states. Every state explored is really reachable, so what is reported is true; a
  check cut short just reports less (`SoundnessReport.complete` says so; no warning is added).

The exploration is breadth-first (each finding has a shortest trace, which names the choice
behind a deadlock) with a partial-order reduction (`_reduced`): parallel branches are not tried
in every interleaving, so thirty of them cost thirty steps, not 2**30 states.

Reporting, so that one mistake gives one warning:

- a finding at a node after one already reported is its echo, and is dropped; so is a deadlock
  at a join after a reported lack of synchronisation, and an inclusive join stuck behind a stuck
  parallel join;
- tokens that meet only before exclusive gateways and none or terminate end events are harmless
  (ending a path twice changes nothing), so a merge right before the end is not reported.

Unreachable nodes are found on the flow graph alone (a node without incoming flow is also an
error of `validation`; here it is one warning among those it makes unreachable): start events are
reached, a node is reached
through a sequence flow from a reached node, boundary events with their activity, the start of a
sub-process (or its nodes without incoming flow) with the sub-process, link catch events with a
link throw event of the same name. Event sub-processes, compensation handlers, event-based
gateways without incoming flow (instantiating ones) and whatever they lead to are reached by
definition. Complex gateways and ad-hoc sub-processes are not explored (no warnings inside).
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from enum import Enum
from itertools import combinations
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

from orchestrator.bpmn.model import (
    Activity, Event, EventType, FlowNode, Kind, Process, SubProcess,
)
from orchestrator.errors import Problem, Severity

DEFAULT_MAX_STATES = 20_000
# Two tokens on one flow is the lack of synchronisation we report; more adds nothing.
TOKEN_CAP = 2
# Up to 2**5 subsets of conditional flows are tried; beyond that only none, one and all.
MAX_FREE_CONDITIONS = 5
# Successors computed per allowed state: bounds the work when states have many successors.
WORK_PER_STATE = 20

DEADLOCK = "{join} can deadlock: {arrived} while no token can ever arrive on {missing}{reason}"
INCLUSIVE_DEADLOCK = (
    "{join} can deadlock: {arrived} and then waits for a token that could still reach {missing} "
    "but is itself stuck{reason}"
)
NO_SYNC_MERGE = (
    "{node} does not synchronise: tokens can arrive on {flows} at the same time, and it passes each "
    "of them on, so what follows runs more than once (a parallel gateway would wait for all of them)"
)
NO_SYNC_NODE = (
    "{node} can run twice at once: tokens can arrive on {flows} at the same time and nothing joins "
    "them (a parallel gateway in front of it would wait for all of them)"
)
REPEATED_TOKEN = (
    "{source} can send a second token along flow {flow} before {target} has taken the first, so "
    "{target} can run twice at once and nothing after it waits for both tokens"
)
UNREACHABLE_NO_INCOMING = "{node} can never be reached: no sequence flow leads to it and it is not a start event"
UNREACHABLE_FROM = (
    "{node} can never be reached: the sequence flows into it come only from {sources}, which can "
    "never be reached either"
)
UNREACHABLE_LINK = "{node} can never be reached: no reachable link event throws to {link}"

REASON_EXCLUSIVE = "the exclusive split {node} chooses one path"
REASON_EVENT_BASED = "the event-based gateway {node} lets only one of its events through"
REASON_INCLUSIVE = "the inclusive split {node} need not take every path"
REASON_CONDITIONS = "the conditions on the flows out of {node} can leave that path out"
REASON_INTERRUPTED = "the boundary event {boundary} can interrupt {node}"
REASON_BOUNDARY_SKIPPED = "the boundary event {boundary} on {node} need not fire"
REASON_LINK = "the link event {node} jumps to only one of its targets"
REASON_UNREACHABLE = "{node} can never be reached"
REASON_NEVER_MARKED = "no run of the process ever passes a token on from {node}"

State = bytes  # the number of tokens on each place of a net, by place index
_Exit = tuple[tuple[int, ...], "str | None"]  # places a node fills, and the boundary event it left by
_Firing = tuple["_Transition", tuple[int, ...]]  # a transition and the places it takes tokens from

_ABORTING_END_EVENTS = frozenset({EventType.TERMINATE, EventType.ERROR, EventType.CANCEL})
# Running these twice changes nothing anyone can see: a merge followed only by them is harmless.
_SIDE_EFFECT_FREE_EVENTS = {
    Kind.END_EVENT: frozenset({EventType.NONE, EventType.TERMINATE}),
    Kind.INTERMEDIATE_THROW_EVENT: frozenset({EventType.NONE}),
}
_KIND_WORDS = {
    Kind.SUB_PROCESS: "sub-process", Kind.AD_HOC_SUB_PROCESS: "ad-hoc sub-process",
    Kind.EVENT_BASED_GATEWAY: "event-based gateway",
}


@dataclass(frozen=True)
class SoundnessReport:
    """What the check found, how many states it explored, and whether it explored them all."""

    problems: tuple[Problem, ...]
    states: int
    complete: bool


def check_soundness(process: Process, *, max_states: int = DEFAULT_MAX_STATES) -> list[Problem]:
    """Warnings about deadlocks, missing synchronisation and unreachable nodes in `process`.

    Always finishes quickly: at most `max_states` states are explored in all. A check cut short
    says nothing about what it did not explore (see `soundness_report` for whether it was).
    """
    return list(soundness_report(process, max_states=max_states).problems)


def soundness_report(process: Process, *, max_states: int = DEFAULT_MAX_STATES, reduce: bool = True) -> SoundnessReport:
    """`check_soundness`, plus the number of states explored and whether the bound was hit.

    `reduce=False` tries every interleaving of parallel branches: the same findings, far more
    states; it is there to check the reduction against.
    """
    reachable = reachable_nodes(process)
    problems = list(_unreachable_problems(process, reachable))
    nets = [net for net in (_build_net(process, scope) for scope in _scopes_to_explore(process, reachable)) if net]
    runs = sorted(((net, initial) for net in nets for initial in net.initials), key=lambda run: len(run[0].places))
    explorations: dict[str, list[_Exploration]] = {}
    remaining, states, complete = max_states, 0, True
    for position, (net, initial) in enumerate(runs):
        budget = max(1, remaining // (len(runs) - position))
        exploration = _explore(net, initial, budget, reduce=reduce)
        explorations.setdefault(net.scope, []).append(exploration)
        remaining -= len(exploration.parents)
        states += len(exploration.parents)
        complete = complete and exploration.complete
    for net in nets:
        problems.extend(_behaviour_problems(net, explorations.get(net.scope, []), reachable))
    problems.sort(key=lambda p: (p.line is None, p.line or 0, p.element or "", p.message))
    return SoundnessReport(tuple(problems), states, complete)


# -- reachability on the flow graph --------------------------------------------------------------


def reachable_nodes(process: Process) -> frozenset[str]:
    """Ids of the flow nodes a token (or an event, for event sub-processes) can ever reach."""
    seen: set[str] = set()
    work = deque(_entry_nodes(process, ""))
    work.extend(node.id for node in process.flow_nodes.values() if _reached_by_definition(node))
    while work:
        node_id = work.popleft()
        if node_id in seen or node_id not in process.flow_nodes:
            continue
        seen.add(node_id)
        work.extend(_next_nodes(process, process.flow_nodes[node_id]))
    return frozenset(seen)


def _reached_by_definition(node: FlowNode) -> bool:
    """Event sub-processes and compensation handlers start on events, not on sequence flows."""
    if isinstance(node, SubProcess) and node.triggered_by_event:
        return True
    return isinstance(node, Activity) and node.is_for_compensation


def _next_nodes(process: Process, node: FlowNode) -> Iterator[str]:
    for flow_id in node.outgoing:
        flow = process.sequence_flows.get(flow_id)
        if flow is not None:
            yield flow.target
    yield from process.boundary_events.get(node.id, ())
    if node.kind is Kind.AD_HOC_SUB_PROCESS:
        yield from process.scopes.get(node.id, ())
    elif node.kind.is_scope:
        yield from _entry_nodes(process, node.id)
    yield from _link_targets(process, node)


def _entry_nodes(process: Process, scope: str) -> list[str]:
    """Where a scope starts: its start events, else every node without incoming flow.

    Event-based gateways without incoming flow start a process too (instantiating ones).
    """
    nodes = [process.flow_nodes[i] for i in process.scopes.get(scope, ()) if i in process.flow_nodes]
    starts = [n.id for n in nodes if n.kind is Kind.START_EVENT]
    instantiating = [n.id for n in nodes if n.kind is Kind.EVENT_BASED_GATEWAY and not n.incoming]
    if starts:
        return starts + instantiating
    return [n.id for n in nodes if not n.incoming and _can_start_implicitly(n)]


def _can_start_implicitly(node: FlowNode) -> bool:
    if node.kind is Kind.BOUNDARY_EVENT or _reached_by_definition(node):
        return False
    return not _is_link(node, Kind.INTERMEDIATE_CATCH_EVENT)


def _is_link(node: FlowNode, kind: Kind) -> bool:
    return isinstance(node, Event) and node.kind is kind and node.event_type is EventType.LINK


def _link_name(node: FlowNode) -> str | None:
    """The link a link event throws to or catches (its definition's name, else the event's)."""
    definitions = node.event_definitions if isinstance(node, Event) else ()
    return (definitions[0].link_name if definitions else None) or node.name


def _link_targets(process: Process, node: FlowNode) -> Iterator[str]:
    """The link catch events a link throw event jumps to (same scope, same link name)."""
    if not _is_link(node, Kind.INTERMEDIATE_THROW_EVENT):
        return
    name = _link_name(node)
    for other_id in process.scopes.get(node.scope or "", ()):
        other = process.flow_nodes.get(other_id)
        if other is not None and _is_link(other, Kind.INTERMEDIATE_CATCH_EVENT) and _link_name(other) == name:
            yield other_id


def _unreachable_problems(process: Process, reachable: frozenset[str]) -> Iterator[Problem]:
    """One warning per unreachable node, except inside an unreachable sub-process or on an
    unreachable activity (its boundary events): the enclosing one is reported already."""
    for node in process.flow_nodes.values():
        if node.id in reachable or (node.scope and node.scope not in reachable):
            continue
        if node.kind is Kind.BOUNDARY_EVENT:
            continue
        yield _warning(process, node.id, _unreachable_message(process, node, reachable))


def _unreachable_message(process: Process, node: FlowNode, reachable: frozenset[str]) -> str:
    if _is_link(node, Kind.INTERMEDIATE_CATCH_EVENT):
        name = _link_name(node)
        return UNREACHABLE_LINK.format(node=_describe(node), link=f"link {name!r}" if name else "it")
    sources = [process.sequence_flows[f].source for f in node.incoming if f in process.sequence_flows]
    sources = [s for s in dict.fromkeys(sources) if s in process.flow_nodes]
    if not sources:
        return UNREACHABLE_NO_INCOMING.format(node=_describe(node))
    return UNREACHABLE_FROM.format(node=_describe(node), sources=_and(_label(process.flow_nodes[s]) for s in sources))


# -- the net of one scope ----------------------------------------------------------------------


class _Join(Enum):
    """How a transition takes its tokens."""

    NONE = "none"
    """One token from its only input: every token passes on its own."""
    PARALLEL = "parallel"
    """One token from every input."""
    INCLUSIVE = "inclusive"
    """One token from every marked input, once no other token can reach an empty one."""


@dataclass(frozen=True)
class _Transition:
    """One way a flow node moves tokens: what it takes, and each set of places it may fill."""

    node: str
    inputs: tuple[int, ...]
    join: _Join
    choices: tuple[tuple[int, ...], ...]
    # per choice, the boundary event it goes through (an alternative or an extra exit), if any
    boundaries: tuple[str | None, ...]
    aborts: bool = False
    # inclusive joins: place -> the empty inputs a token there can still reach
    waits_for: Mapping[int, frozenset[int]] = field(default_factory=lambda: MappingProxyType({}))
    # may fire alone, ahead of the others, when no other token can catch up with it (`_reduced`)
    may_go_first: bool = False
    # an end event that only consumes: tokens meeting there are harmless, so it may always go first
    ends: bool = False


@dataclass(frozen=True)
class _Net:
    """The token net of one scope, with indexes precomputed for the exploration."""

    process: Process
    scope: str
    places: tuple[str, ...]  # flow id, or "@node" for the entry place of a start
    targets: tuple[str, ...]  # the node that takes a token from each place
    consumers: tuple[tuple[_Transition, ...], ...]
    initials: tuple[State, ...]  # one per way the scope can start
    merges: tuple[str | None, ...]  # place -> the non-joining node with several inputs it leads to
    reach: tuple[frozenset[int], ...]  # place -> places a token there can go on to (itself included)
    reach_nodes: tuple[frozenset[str], ...]  # place -> nodes a token there can go on to
    tame: tuple[bool, ...]  # place -> a token there can never reach an inclusive join

    def downstream(self, node_id: str) -> frozenset[str]:
        """Nodes a token leaving `node_id` (or one of its boundary events) can reach."""
        places = [p for p in range(len(self.places)) if node_id in self._sources(p)]
        return frozenset(self.targets[q] for p in places for q in self.reach[p])

    def _sources(self, place: int) -> tuple[str, ...]:
        flow = self.process.sequence_flows.get(self.places[place])
        if flow is None:
            return ()
        source = self.process.flow_nodes.get(flow.source)
        if isinstance(source, Event) and source.attached_to:
            return (flow.source, source.attached_to)
        return (flow.source,)


def _scopes_to_explore(process: Process, reachable: frozenset[str]) -> list[str]:
    """The process level and every reachable embedded sub-process (ad-hoc ones have no flow to explore)."""
    scopes = [""]
    for scope in process.scopes:
        owner = process.flow_nodes.get(scope)
        if owner is None or scope not in reachable:
            continue
        if owner.kind.is_scope and owner.kind is not Kind.AD_HOC_SUB_PROCESS:
            scopes.append(scope)
    return scopes


def _net_nodes(process: Process, scope: str) -> list[FlowNode]:
    """Flow nodes that move tokens in this scope (boundary events go with their activity)."""
    nodes = [process.flow_nodes[i] for i in process.scopes.get(scope, ()) if i in process.flow_nodes]
    return [n for n in nodes if n.kind is not Kind.BOUNDARY_EVENT and not _reached_by_definition(n)]


def _build_net(process: Process, scope: str) -> _Net | None:
    """Compile a scope into a net; None when it holds something we cannot model (a complex gateway)."""
    nodes = _net_nodes(process, scope)
    if not nodes or any(n.kind is Kind.COMPLEX_GATEWAY for n in nodes):
        return None
    entries = _entry_nodes(process, scope)
    places, targets = _places_of(process, nodes, entries)
    index = {place: i for i, place in enumerate(places)}
    inputs: dict[str, list[int]] = {n.id: [] for n in nodes}
    for i, target in enumerate(targets):
        inputs[target].append(i)
    exits = {n.id: _choices(process, n, index) for n in nodes}
    successors = [frozenset(p for outs, _ in exits[target] for p in outs) for target in targets]
    reach = tuple(_closure(p, successors, targets, avoid=None) for p in range(len(places)))
    transitions = [t for n in nodes for t in _transitions(n, inputs[n.id], exits[n.id], successors, targets)]
    consumers: list[list[_Transition]] = [[] for _ in places]
    for transition in transitions:
        for place in transition.inputs:
            consumers[place].append(transition)
    merges = {p: n.id for n in nodes if _is_merge(n, inputs[n.id]) for p in inputs[n.id]}
    inclusive_inputs = {p for t in transitions if t.join is _Join.INCLUSIVE for p in t.inputs}
    return _Net(
        process=process, scope=scope, places=places, targets=targets,
        consumers=tuple(tuple(c) for c in consumers), initials=_initial_states(process, entries, index),
        merges=tuple(merges.get(p) for p in range(len(places))), reach=reach,
        reach_nodes=tuple(frozenset(targets[q] for q in r) for r in reach),
        tame=tuple(not (r & inclusive_inputs) for r in reach),
    )


def _places_of(process: Process, nodes: list[FlowNode], entries: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The places of a scope's net and the node each leads to: its sequence flows (those leaving
    a node or a boundary event of the scope), then one entry place per start."""
    node_ids = {n.id for n in nodes}
    sources = node_ids | {b for n in nodes for b in process.boundary_events.get(n.id, ())}
    flows = [f for f in process.sequence_flows.values() if f.source in sources and f.target in node_ids]
    places = tuple(f.id for f in flows) + tuple(f"@{n}" for n in entries)
    return places, tuple(f.target for f in flows) + tuple(entries)


def _is_merge(node: FlowNode, inputs: list[int]) -> bool:
    """A node that passes on each of several incoming tokens on its own, and does something."""
    return len(inputs) > 1 and node.kind is not Kind.END_EVENT and not _is_join(node)


def _initial_states(process: Process, entries: list[str], index: Mapping[str, int]) -> tuple[State, ...]:
    """Each start event starts an instance of its own; without one, every entry starts together."""
    if not entries:
        return ()
    if any(process.flow_nodes[n].kind is Kind.START_EVENT for n in entries):
        groups = [[n] for n in entries]
    else:
        groups = [entries]
    states = []
    for group in groups:
        state = bytearray(len(index))
        for node in group:
            state[index[f"@{node}"]] = 1
        states.append(bytes(state))
    return tuple(states)


def _is_join(node: FlowNode) -> bool:
    return node.kind in (Kind.PARALLEL_GATEWAY, Kind.INCLUSIVE_GATEWAY)


def _transitions(node: FlowNode, inputs: list[int], outputs: list[_Exit],
                 successors: list[frozenset[int]], targets: tuple[str, ...]) -> list[_Transition]:
    """A join is one transition over all its inputs; any other node one per input.

    Aborting end events disable everything else and inclusive joins depend on tokens far
    away: neither may fire ahead of the others (`may_go_first`, see `_reduced`).
    """
    choices = tuple(outs for outs, _ in outputs)
    boundaries = tuple(boundary for _, boundary in outputs)
    aborts = isinstance(node, Event) and node.kind is Kind.END_EVENT and node.event_type in _ABORTING_END_EVENTS
    if _is_join(node) and len(inputs) > 1:
        join = _Join.PARALLEL if node.kind is Kind.PARALLEL_GATEWAY else _Join.INCLUSIVE
        waits_for: Mapping[int, frozenset[int]] = MappingProxyType({})
        if join is _Join.INCLUSIVE:
            waits_for = _waits_for(node.id, inputs, successors, targets)
        first = join is _Join.PARALLEL and not aborts
        return [_Transition(node.id, tuple(inputs), join, choices, boundaries, aborts, waits_for, first)]
    ends = node.kind is Kind.END_EVENT and not aborts
    return [
        _Transition(node.id, (place,), _Join.NONE, choices, boundaries, aborts, may_go_first=not aborts, ends=ends)
        for place in inputs
    ]


def _waits_for(join: str, inputs: list[int], successors: list[frozenset[int]],
               targets: tuple[str, ...]) -> Mapping[int, frozenset[int]]:
    """For each place, the join's inputs a token there can still reach without passing the join."""
    wanted = frozenset(inputs)
    table = {p: _closure(p, successors, targets, avoid=join) & wanted for p in range(len(targets))}
    return MappingProxyType({p: reached for p, reached in table.items() if reached})


def _closure(start: int, successors: list[frozenset[int]], targets: tuple[str, ...], *,
             avoid: str | None) -> frozenset[int]:
    """Places reachable from `start` (itself included), not passing through the node `avoid`."""
    seen = {start}
    stack = [start]
    while stack:
        place = stack.pop()
        if targets[place] == avoid:
            continue
        for nxt in successors[place]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return frozenset(seen)


# -- what each kind of node may produce ----------------------------------------------------------


def _choices(process: Process, node: FlowNode, index: Mapping[str, int]) -> list[_Exit]:
    """Every set of places the node may fill when it fires, with the boundary event it went through."""
    base = [(outs, None) for outs in _normal_exits(process, node, index)]
    extra: list[_Exit] = []
    if isinstance(node, Activity):
        for boundary_id in process.boundary_events.get(node.id, ()):
            boundary = process.flow_nodes.get(boundary_id)
            if not isinstance(boundary, Event) or boundary.event_type is EventType.COMPENSATE:
                continue
            outs = _places(boundary.outgoing, index)
            if boundary.cancel_activity:
                extra.append((outs, boundary_id))
            else:
                extra.extend((tuple(sorted(normal + outs)), boundary_id) for normal, _ in base)
    unique: dict[tuple[int, ...], str | None] = {}
    for outs, boundary in base + extra:
        unique.setdefault(outs, boundary)
    return list(unique.items())


def _places(flow_ids: Iterable[str], index: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(sorted(index[f] for f in flow_ids if f in index))


def _normal_exits(process: Process, node: FlowNode, index: Mapping[str, int]) -> list[tuple[int, ...]]:
    kind = node.kind
    if kind is Kind.END_EVENT:
        return [()]
    if kind in (Kind.EXCLUSIVE_GATEWAY, Kind.EVENT_BASED_GATEWAY):
        return [_places([f], index) for f in node.outgoing] or [()]
    if _is_link(node, Kind.INTERMEDIATE_THROW_EVENT):
        targets = [process.flow_nodes[t] for t in _link_targets(process, node)]
        return [_places(t.outgoing, index) for t in targets] or [()]
    if kind is Kind.INCLUSIVE_GATEWAY or isinstance(node, Activity):
        return _conditional_exits(process, node, index)
    return [_places(node.outgoing, index)]


def _conditional_exits(process: Process, node: FlowNode, index: Mapping[str, int]) -> list[tuple[int, ...]]:
    """Unconditional flows plus any subset of the conditional ones; the default when none holds."""
    default = getattr(node, "default", None)
    flows = [process.sequence_flows[f] for f in node.outgoing if f in process.sequence_flows]
    if not flows:
        return [()]
    always = [f.id for f in flows if f.id != default and f.condition is None]
    conditional = [f.id for f in flows if f.id != default and f.condition is not None]
    default_flows = [default] if default in node.outgoing else []
    exits = []
    for chosen in _subsets(conditional):
        if chosen:
            exits.append(_places(always + list(chosen), index))
        elif node.kind is Kind.INCLUSIVE_GATEWAY:
            exits.append(_places(always or default_flows, index))
        else:
            exits.append(_places(always + default_flows, index))
    return [outs for outs in dict.fromkeys(exits) if outs or not (always or conditional or default_flows)] or [()]


def _subsets(items: list[str]) -> list[tuple[str, ...]]:
    if len(items) <= MAX_FREE_CONDITIONS:
        return [c for size in range(len(items) + 1) for c in combinations(items, size)]
    return [()] + [(item,) for item in items] + [tuple(items)]


# -- exploring the state space -------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """How a state was first reached: from `previous`, by `transition` taking choice `choice`."""

    previous: State
    transition: _Transition
    choice: int


@dataclass(frozen=True)
class _SyncEvent:
    """The first state, in breadth-first order, showing one lack of synchronisation."""

    depth: int
    node: str | None  # a merge with tokens on several inputs at once ...
    places: tuple[int, ...]  # ... on these places; or one place holding two tokens (node None)


@dataclass
class _Exploration:
    """Everything one breadth-first run found; local to one check, never shared."""

    parents: dict[State, _Step | None]
    depths: dict[State, int]
    dead: dict[str, State] = field(default_factory=dict)  # stuck join -> first dead state
    sync: list[_SyncEvent] = field(default_factory=list)
    complete: bool = True


def _explore(net: _Net, initial: State, budget: int, *, reduce: bool = True) -> _Exploration:
    """Breadth-first over reachable states, so that each finding comes with a shortest trace."""
    run = _Exploration(parents={initial: None}, depths={initial: 0})
    seen_sync: set[tuple[str | None, int | None]] = set()
    _note_sync(net, initial, _marked(initial), 0, run, seen_sync)
    queue: deque[tuple[State, int]] = deque([(initial, 0)])
    work = 0
    while queue:
        state, depth = queue.popleft()
        marked = _marked(state)
        enabled = list(_enabled(net, state, marked))
        if not enabled:
            _note_dead(net, state, marked, run)
            continue
        reduced = _reduced(net, state, marked, enabled, seen_sync) if reduce else []
        firing = reduced if reduced and _may_reduce(reduced, state, depth, run) else enabled
        for transition, taken in firing:
            for choice, successor in _fire(transition, state, taken):
                work += 1
                if work > budget * WORK_PER_STATE:
                    run.complete = False
                    return run
                if successor is None or successor in run.parents:
                    continue
                if len(run.parents) >= budget:
                    run.complete = False
                    return run
                run.parents[successor] = _Step(state, transition, choice)
                run.depths[successor] = depth + 1
                _note_sync(net, successor, _marked(successor), depth + 1, run, seen_sync)
                queue.append((successor, depth + 1))
    return run


def _marked(state: State) -> list[int]:
    """The places holding at least one token, in order."""
    return [place for place, count in enumerate(state) if count]


def _reduced(net: _Net, state: State, marked: list[int], enabled: list[_Firing],
             seen_sync: set[tuple[str | None, int | None]]) -> list[_Firing]:
    """One transition to fire alone, or nothing when every enabled one must be tried.

    Parallel branches would otherwise be explored in every interleaving (3**9 states for nine
    branches of two steps). No place here has two consumers, so an enabled transition stays
    enabled until it fires, and firing it first only adds tokens to what the others see:
    every deadlock is still reached (a partial-order reduction with singleton stubborn sets).
    Two tokens side by side before a node are still seen if no other token can ever reach the
    node the transition belongs to, so only such a transition goes first (or one whose node
    is known not to synchronise already: thirty branches into one exclusive merge need not be
    tried in every order once it is clear they meet there). All of that holds while no marked
    token can reach an inclusive join, whose rule looks at tokens far away; then all
    transitions are tried.
    """
    if not all(net.tame[p] for p in marked):
        return []
    # how many tokens can still reach each node: a node's own tokens always can
    reaching: Counter[str] = Counter()
    for place in marked:
        for node in net.reach_nodes[place]:
            reaching[node] += state[place]
    for transition, taken in enabled:
        if transition.may_go_first and (
            transition.ends or reaching[transition.node] == len(taken) or (transition.node, None) in seen_sync
        ):
            return [(transition, taken)]
    return []


def _may_reduce(firing: list[_Firing], state: State, depth: int, run: _Exploration) -> bool:
    """Whether the reduced step leads somewhere and cannot close a cycle.

    A step whose every successor is cut off (too many tokens on a flow) would end the
    exploration there. A cycle of steps that go first could postpone the others forever (the
    cycle proviso); a cycle found breadth-first always has an edge back to a state no deeper
    than where it starts, so such an edge is expanded fully.
    """
    successors = [successor for transition, taken in firing for _, successor in _fire(transition, state, taken)]
    if all(successor is None for successor in successors):
        return False
    return not any(successor is not None and run.depths.get(successor, depth + 1) <= depth for successor in successors)


def _enabled(net: _Net, state: State, marked: list[int]) -> Iterator[_Firing]:
    """Each transition that can fire, with the places it takes a token from."""
    joins: set[str] = set()
    for place in marked:
        for transition in net.consumers[place]:
            if transition.join is _Join.NONE:
                yield transition, (place,)
            elif transition.node not in joins:
                joins.add(transition.node)
                taken = _join_takes(transition, state, marked)
                if taken:
                    yield transition, taken


def _join_takes(transition: _Transition, state: State, marked: list[int]) -> tuple[int, ...]:
    if transition.join is _Join.PARALLEL:
        return transition.inputs if all(state[p] for p in transition.inputs) else ()
    filled = frozenset(p for p in transition.inputs if state[p])
    for place in marked:
        reached = transition.waits_for.get(place)
        if reached and not reached & filled:
            return ()
    return tuple(sorted(filled))


def _fire(transition: _Transition, state: State, taken: tuple[int, ...]) -> Iterator[tuple[int, State | None]]:
    """Successor states per choice; None for one that would put too many tokens on a flow."""
    rest = bytearray(state)
    for place in taken:
        rest[place] -= 1
    for choice, outs in enumerate(transition.choices):
        if transition.aborts:
            yield choice, bytes(len(state))
            continue
        successor = bytearray(rest)
        for place in outs:
            successor[place] += 1
        if any(successor[place] > TOKEN_CAP for place in outs):
            yield choice, None
        else:
            yield choice, bytes(successor)


def _note_sync(net: _Net, state: State, marked: list[int], depth: int, run: _Exploration,
               seen: set[tuple[str | None, int | None]]) -> None:
    """Record the first state showing two tokens on one flow, or on several inputs of a merge."""
    if TOKEN_CAP in state:
        for place in marked:
            if state[place] >= TOKEN_CAP and (None, place) not in seen:
                seen.add((None, place))
                run.sync.append(_SyncEvent(depth, None, (place,)))
    at_merge: dict[str, list[int]] = {}
    for place in marked:
        merge = net.merges[place]
        if merge is not None and (merge, None) not in seen:
            at_merge.setdefault(merge, []).append(place)
    for merge, places in at_merge.items():
        if len(places) > 1:
            seen.add((merge, None))
            run.sync.append(_SyncEvent(depth, merge, tuple(places)))


def _note_dead(net: _Net, state: State, marked: list[int], run: _Exploration) -> None:
    """Record, per stuck join, the first state in which nothing can move any more."""
    for place in marked:
        run.dead.setdefault(net.targets[place], state)


# -- turning findings into warnings --------------------------------------------------------------


def _behaviour_problems(net: _Net, runs: list[_Exploration], reachable: frozenset[str]) -> list[Problem]:
    """Sync problems first (they explain later ones), then deadlocks not caused by them."""
    problems, covered = _sync_problems(net, runs)
    problems.extend(_deadlock_problems(net, runs, reachable, covered))
    return problems


def _sync_problems(net: _Net, runs: list[_Exploration]) -> tuple[list[Problem], set[str]]:
    """One warning per root cause: a finding after one already reported is its echo.

    Findings are taken upstream first (then in breadth-first order), so that the root cause is
    the one reported whichever order the exploration met them in. Two tokens on one flow into a
    merge found not to synchronise are that merge's story, told once.
    """
    events = [event for run in runs for event in run.sync]
    merges = {event.node for event in events if event.node}
    events = [e for e in events if e.node or net.targets[e.places[0]] not in merges]
    culprits = {id(e): e.node or _source_node(net, e.places[0]) for e in events}
    downstream = {c: net.downstream(c) for c in culprits.values() if c is not None}

    def upstream_of(culprit: str | None) -> int:
        """How many other culprits come strictly before this one on the flow graph."""
        return sum(1 for c, after in downstream.items() if c != culprit and culprit in after and c not in downstream.get(culprit, ()))

    problems: list[Problem] = []
    covered: set[str] = set()
    for event in sorted(events, key=lambda e: (upstream_of(culprits[id(e)]), e.depth)):
        culprit = culprits[id(event)]
        runs_twice = event.node or net.targets[event.places[0]]
        if culprit is None or culprit in covered or _harmless(net, runs_twice):
            continue
        covered.add(culprit)
        covered.update(downstream[culprit])
        problems.append(_warning(net.process, culprit, _sync_message(net, event, culprit)))
    return problems, covered


def _source_node(net: _Net, place: int) -> str | None:
    flow = net.process.sequence_flows.get(net.places[place])
    return flow.source if flow is not None else None


def _harmless(net: _Net, node_id: str) -> bool:
    """Running `node_id` and all that follows it twice changes nothing: it only ends paths."""
    return all(_side_effect_free(net.process.flow_nodes[n]) for n in net.downstream(node_id) | {node_id})


def _side_effect_free(node: FlowNode) -> bool:
    if node.kind is Kind.EXCLUSIVE_GATEWAY:
        return True
    allowed = _SIDE_EFFECT_FREE_EVENTS.get(node.kind)
    if allowed is None or not isinstance(node, Event):
        return False
    return node.event_type in allowed and len(node.event_definitions) <= 1


def _sync_message(net: _Net, event: _SyncEvent, culprit: str) -> str:
    process = net.process
    if event.node is not None:
        node = process.flow_nodes[event.node]
        template = NO_SYNC_MERGE if node.kind.is_gateway else NO_SYNC_NODE
        return template.format(node=_describe(node), flows=_flows(net, event.places))
    target = process.flow_nodes[net.targets[event.places[0]]]
    return REPEATED_TOKEN.format(
        source=_describe(process.flow_nodes[culprit]), flow=repr(net.places[event.places[0]]), target=_label(target),
    )


def _deadlock_problems(net: _Net, runs: list[_Exploration], reachable: frozenset[str],
                       covered: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[str] = set()
    for run in runs:
        for join_id, state in run.dead.items():
            if join_id in reported or join_id in covered:
                continue
            transition = _join_transition(net, join_id)
            if transition is None or _blocked_by_parallel(net, state, transition):
                continue
            reported.add(join_id)
            problems.append(_warning(net.process, join_id, _deadlock_message(net, run, state, transition, reachable)))
    return problems


def _join_transition(net: _Net, node_id: str) -> _Transition | None:
    for consumers in net.consumers:
        for transition in consumers:
            if transition.node == node_id and transition.join is not _Join.NONE:
                return transition
    return None


def _blocked_by_parallel(net: _Net, state: State, transition: _Transition) -> bool:
    """An inclusive join waiting on a stuck parallel join: the parallel one is the news."""
    if transition.join is not _Join.INCLUSIVE:
        return False
    stuck = {net.targets[p] for p in _marked(state)}
    return any((t := _join_transition(net, node)) is not None and t.join is _Join.PARALLEL for node in stuck)


def _deadlock_message(net: _Net, run: _Exploration, state: State, transition: _Transition,
                      reachable: frozenset[str]) -> str:
    arrived = [p for p in transition.inputs if state[p]]
    missing = [p for p in transition.inputs if not state[p]]
    reasons = (_reason(net, run, state, m) for m in missing)
    reason = next(filter(None, reasons), None) or _fallback_reason(net, run, missing, reachable)
    template = DEADLOCK if transition.join is _Join.PARALLEL else INCLUSIVE_DEADLOCK
    return template.format(
        join=_describe(net.process.flow_nodes[transition.node]),
        arrived=("a token can arrive on " if len(arrived) == 1 else "tokens can arrive on ") + _flows(net, arrived),
        missing=_flows(net, missing), reason=f" ({reason})" if reason else "",
    )


def _reason(net: _Net, run: _Exploration, state: State, missing: int) -> str | None:
    """The last choice on the way to `state` that sent no token towards `missing` but could have."""
    step = run.parents.get(state)
    while step is not None:
        transition = step.transition
        leads_there = [any(missing in net.reach[p] for p in outs) for outs in transition.choices]
        if not leads_there[step.choice] and any(leads_there):
            return _choice_reason(net, transition, step.choice, leads_there.index(True))
        step = run.parents.get(step.previous)
    return None


def _fallback_reason(net: _Net, run: _Exploration, missing: list[int], reachable: frozenset[str]) -> str | None:
    """No choice explains it: the flows' sources are dead, on the diagram or in every run."""
    nodes = net.process.flow_nodes
    sources = [(m, nodes[s]) for m, s in ((m, _source_node(net, m)) for m in missing) if s in nodes]
    dead = [node for _, node in sources if node.id not in reachable]
    if dead:
        return REASON_UNREACHABLE.format(node=_and(_label(node) for node in dead))
    if run.complete:
        never = [node for m, node in sources if not any(state[m] for state in run.parents)]
        if never:
            return REASON_NEVER_MARKED.format(node=_and(_label(node) for node in never))
    return None


def _choice_reason(net: _Net, transition: _Transition, taken: int, alternative: int) -> str:
    process = net.process
    node = process.flow_nodes[transition.node]
    taken_boundary, other_boundary = transition.boundaries[taken], transition.boundaries[alternative]
    if taken_boundary is not None and _interrupts(process, taken_boundary):
        return REASON_INTERRUPTED.format(boundary=_label(process.flow_nodes[taken_boundary]), node=_label(node))
    if other_boundary is not None:
        return REASON_BOUNDARY_SKIPPED.format(boundary=_label(process.flow_nodes[other_boundary]), node=_label(node))
    template = {
        Kind.EXCLUSIVE_GATEWAY: REASON_EXCLUSIVE, Kind.EVENT_BASED_GATEWAY: REASON_EVENT_BASED,
        Kind.INCLUSIVE_GATEWAY: REASON_INCLUSIVE, Kind.INTERMEDIATE_THROW_EVENT: REASON_LINK,
    }.get(node.kind, REASON_CONDITIONS)
    return template.format(node=_label(node))


def _interrupts(process: Process, boundary_id: str) -> bool:
    boundary = process.flow_nodes[boundary_id]
    return isinstance(boundary, Event) and boundary.cancel_activity


# -- words ---------------------------------------------------------------------------------------


def _warning(process: Process, element: str, message: str) -> Problem:
    node = process.flow_nodes.get(element)
    line = node.line if node else None
    return Problem(message, element=element, line=line, severity=Severity.WARNING, process=process.id)


def _label(node: FlowNode) -> str:
    """The node's name (or id) in quotes, on one line."""
    return repr(" ".join(node.label.split()))


def _describe(node: FlowNode) -> str:
    """`parallel gateway 'Join'`, `timer boundary event 'Late'`: how a sentence names a node."""
    words = _KIND_WORDS.get(node.kind) or "".join(f" {c.lower()}" if c.isupper() else c for c in node.kind.value)
    if isinstance(node, Event) and node.event_type is not EventType.NONE:
        words = f"{node.event_type.value} {words}"
    return f"{words} {_label(node)}"


def _flows(net: _Net, places: Iterable[int]) -> str:
    """`flow 'F1' (from 'A')` or `flows 'F1' (from 'A') and 'F2' (from 'B')`."""
    texts = []
    for place in places:
        source = _source_node(net, place)
        node = net.process.flow_nodes.get(source) if source else None
        texts.append(f"{net.places[place]!r} (from {_label(node)})" if node else repr(net.places[place]))
    return ("flow " if len(texts) == 1 else "flows ") + _and(texts)


def _and(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
