"""Multi-instance activities and standard loops: one body token, inner tokens per iteration.

When a token enters an activity with loop characteristics it becomes the *body*: it holds the
count and the outputs, waits at the activity, and owns the boundary events (an interrupting one
stops every inner instance at once). Each iteration is an *inner* token at the same activity
that runs it normally, with its own variables (the item, `loopCounter`, the output item); when
it completes, it reports to the body instead of leaving.

- Parallel multi-instance: every inner token starts at once (the Celery layer sends their jobs
  as one chord); sequential: one after another, so `completionCondition` is checked after each.
- `completionCondition` sees `nrOfInstances`, `nrOfCompletedInstances`, `nrOfActiveInstances`
  and `loopCounter`; when it holds, the remaining inner instances are cancelled.
- Outputs are collected in item order (by index, or by key for a dict collection) into the
  output collection.
- Standard loop: `testBefore`, `loopCondition` (loop while it holds), `loopMaximum`.
"""
from __future__ import annotations

from typing import Any

from orchestrator.bpmn.expressions import read_expression
from orchestrator.bpmn.model import Activity, FlowNode, LoopCharacteristics
from orchestrator.errors import BatonError, EngineError
from orchestrator.runtime.context import ENTER, StepContext, Token
from orchestrator.runtime.variables import encode_value


def enter_body(ctx: StepContext, token: Token, node: FlowNode) -> None:
    assert isinstance(node, Activity) and node.loop is not None
    loop = node.loop
    ctx.record("started", node, token)
    try:
        if loop.kind == "standard":
            body = {"kind": "loop", "counter": 0}
            token["body"] = body
            ctx.wait(token)
            if loop.test_before and not _loop_continues(ctx, token, node, loop, counter=0):
                _finish(ctx, token, node)
                return
            _spawn(ctx, token, node, index=0, item=None)
            return
        items, keys = _items(ctx, token, node, loop)
    except BatonError as exc:
        ctx.fail(token, node, f"multi-instance: {exc.message}")
        return
    token["body"] = {"kind": "mi", "n": len(items), "completed": 0, "active": 0, "next": 0,
                     "items": items, "keys": keys, "outputs": {}, "inner": []}
    ctx.wait(token)
    if not items:
        _finish(ctx, token, node)
        return
    if loop.is_sequential:
        _spawn(ctx, token, node, index=0, item=items[0])
    else:
        for index, item in enumerate(items):
            _spawn(ctx, token, node, index=index, item=item)


def _items(ctx: StepContext, token: Token, node: Activity, loop: LoopCharacteristics) -> tuple[list[Any], list[Any] | None]:
    if loop.collection:
        expression = read_expression(loop.collection)
        if expression is None or expression.python is None:
            raise EngineError(f"cannot read the collection {loop.collection!r}", element=node.id)
        value = ctx.evaluate(node.id, expression, token)
        if isinstance(value, dict):
            return [encode_value("item", v) for v in value.values()], list(value.keys())
        if isinstance(value, (list, tuple, set, frozenset)):
            return [encode_value("item", v) for v in (sorted(value) if isinstance(value, (set, frozenset)) else value)], None
        raise EngineError(f"the collection {loop.collection!r} is a {type(value).__name__}, not a list or dict",
                          element=node.id)
    if loop.loop_cardinality is not None:
        count = ctx.evaluate(node.id, loop.loop_cardinality, token)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise EngineError(f"loopCardinality must be a whole number, not {count!r}", element=node.id)
        return list(range(count)), None
    raise EngineError("a multi-instance activity needs a loopCardinality or a collection", element=node.id)


def _spawn(ctx: StepContext, body_token: Token, node: Activity, *, index: int, item: Any) -> None:
    loop = node.loop
    assert loop is not None
    inner = {"id": ctx.new_id(), "node": node.id, "scope": body_token["scope"], "phase": "queued", "flow": None,
             "inner": {"body": body_token["id"], "index": index}}
    local: dict[str, Any] = {"loopCounter": index}
    if loop.kind == "multiInstance":
        local[loop.element_variable or "item"] = item
        if loop.output_element:
            local[loop.output_element] = None
    inner["locals"] = local
    ctx.tokens[inner["id"]] = inner
    ctx.scopes[inner["scope"]]["count"] += 1
    body = body_token["body"]
    body["active"] = body.get("active", 0) + 1
    if body["kind"] == "mi":
        body["next"] = index + 1
        body["inner"].append(inner["id"])
    ctx.enqueue(ENTER, inner)


def inner_done(ctx: StepContext, inner: Token, node: FlowNode) -> None:
    """An inner instance completed its activity: count it, collect its output, go on or finish."""
    assert isinstance(node, Activity) and node.loop is not None
    loop = node.loop
    body_token = ctx.tokens.get(inner["inner"]["body"])
    index = inner["inner"]["index"]
    local = inner.get("locals") or {}
    del ctx.tokens[inner["id"]]
    ctx.scopes[inner["scope"]]["count"] -= 1
    if body_token is None:
        return  # the body was interrupted meanwhile
    body = body_token["body"]
    body["active"] -= 1
    if body["kind"] == "loop":
        body["counter"] = index + 1
        try:
            again = _loop_continues(ctx, body_token, node, loop, counter=index + 1)
        except BatonError as exc:
            ctx.fail(body_token, node, f"loopCondition failed: {exc.message}")
            return
        if again:
            _spawn(ctx, body_token, node, index=index + 1, item=None)
        else:
            _finish(ctx, body_token, node)
        return
    body["completed"] += 1
    if inner["id"] in body["inner"]:
        body["inner"].remove(inner["id"])
    if loop.output_element:
        body["outputs"][str(index)] = local.get(loop.output_element)
    try:
        done = _completion_condition(ctx, body_token, node, loop, index)
    except BatonError as exc:
        ctx.fail(body_token, node, f"completionCondition failed: {exc.message}")
        return
    if done:
        for other_id in list(body["inner"]):
            other = ctx.tokens.get(other_id)
            if other is not None:
                from orchestrator.runtime.subscriptions import interrupt

                interrupt(ctx, other)
        body["inner"] = []
        body["active"] = 0
        _finish(ctx, body_token, node)
        return
    if loop.is_sequential and body["next"] < body["n"]:
        _spawn(ctx, body_token, node, index=body["next"], item=body["items"][body["next"]])
    elif body["active"] == 0 and body["next"] >= body["n"]:
        _finish(ctx, body_token, node)


def _completion_condition(ctx: StepContext, body_token: Token, node: Activity, loop: LoopCharacteristics,
                          index: int) -> bool:
    body = body_token["body"]
    if body["completed"] >= body["n"]:
        return True
    if loop.completion_condition is None:
        return False
    counts = {"nrOfInstances": body["n"], "nrOfCompletedInstances": body["completed"],
              "nrOfActiveInstances": body["active"], "loopCounter": index}
    variables = {**ctx.variables_for(body_token), **counts}
    return bool(ctx.exe.evaluate(node.id, loop.completion_condition, variables))


def _loop_continues(ctx: StepContext, token: Token, node: Activity, loop: LoopCharacteristics, *, counter: int) -> bool:
    if loop.loop_maximum is not None and counter >= loop.loop_maximum:
        return False
    if loop.loop_condition is None:
        return loop.loop_maximum is not None  # no condition: run up to the maximum
    variables = {**ctx.variables_for(token), "loopCounter": counter}
    return bool(ctx.exe.evaluate(node.id, loop.loop_condition, variables))


def _finish(ctx: StepContext, body_token: Token, node: Activity) -> None:
    body = body_token.pop("body")
    loop = node.loop
    if body["kind"] == "mi" and loop is not None and loop.output_collection:
        outputs = body["outputs"]
        if body["keys"] is not None:
            collected: Any = {key: outputs.get(str(i)) for i, key in enumerate(body["keys"]) if str(i) in outputs}
        else:
            collected = [outputs[str(i)] for i in range(body["n"]) if str(i) in outputs]
        ctx.variables[loop.output_collection] = collected
        ctx.changed.add(loop.output_collection)
        ctx._decoded = None
    ctx.enqueue("complete", body_token)
