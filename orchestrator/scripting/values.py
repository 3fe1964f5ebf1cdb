"""Copying, comparing and sizing the JSON-like values that cross the sandbox boundary.

Process variables are dict/list/str/int/float/bool/None plus datetime, date, time,
timedelta and Decimal. Everything here is specialised for those types because the engine
runs long chains of script tasks and `copy.deepcopy` costs several times more per value.
"""
from __future__ import annotations

import copy
from collections.abc import ItemsView, KeysView, ValuesView
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import GenericAlias
from typing import Any

NoneType = type(None)

#: Values of these types cannot be changed in place, so they cross the boundary uncopied.
IMMUTABLE_TYPES: frozenset[type] = frozenset(
    {str, int, float, bool, NoneType, complex, Decimal, datetime, date, time, timedelta, timezone}
)

#: Top-level types a script result may hold. Anything else (functions, lambdas, classes,
#: modules, generators, iterators, exceptions, views) is a script-local helper and is dropped.
DATA_TYPES: frozenset[type] = IMMUTABLE_TYPES - {complex} | {dict, list, tuple, set, frozenset}

#: Types whose contents a script can read without running code we do not control, so an
#: expression that cannot call anything may see the caller's own objects uncopied.
PLAIN_TYPES: frozenset[type] = IMMUTABLE_TYPES | {dict, list, tuple, set, frozenset}


def copy_value(value: Any) -> Any:
    """Deep-copy a variable so that a script mutating it cannot reach the caller's object.

    Immutable leaves are shared, containers are rebuilt; unknown types fall back to
    `copy.deepcopy`, because a script could still mutate them through `+=`.
    """
    t = type(value)
    if t in IMMUTABLE_TYPES:
        return value
    if t is dict:
        return {k: v if type(v) in IMMUTABLE_TYPES else copy_value(v) for k, v in value.items()}
    if t is list:
        return [v if type(v) in IMMUTABLE_TYPES else copy_value(v) for v in value]
    if t is tuple:
        return tuple(copy_value(v) for v in value)
    if t is set:
        return set(value)  # elements are hashable, hence immutable in practice
    if t is frozenset:
        return value
    return copy.deepcopy(value)


def same_value(old: Any, new: Any) -> bool:
    """Whether `new` equals `old` by value *and* type, recursively.

    Plain `==` says 1 == 1.0 == True and [1] == [True], but the engine stores them
    differently, so a script turning 1 into True has changed the variable.
    """
    if old is new:
        return True
    t = type(old)
    if t is not type(new):
        return False
    try:
        if t is dict:
            if len(old) != len(new):
                return False
            for key, value in old.items():
                if key not in new or not same_value(value, new[key]):
                    return False
            return True
        if t is list or t is tuple:
            return len(old) == len(new) and all(same_value(a, b) for a, b in zip(old, new))
        return bool(old == new)
    except RecursionError:
        return False  # too deep to tell: report it as changed, which is always safe


_SCALAR_SIZES: dict[type, int] = {
    NoneType: 4,
    bool: 5,
    float: 24,
    complex: 50,
    datetime: 40,
    date: 12,
    time: 20,
    timedelta: 30,
    timezone: 30,
}
_OTHER_SIZE = 100  # "<function f at 0x7f...>" and similar

#: Objects whose text shows what they contain: `str(ValueError([s] * 1000))` or
#: `str(list[[s] * 1000])` is as long as the list's.
_CONTAINERS = (dict, list, tuple, set, frozenset, BaseException, KeysView, ValuesView, ItemsView, GenericAlias)


def _scalar_size(value: Any, t: type) -> int | None:
    """Text size of a non-container, or None for containers."""
    if t is str:
        return len(value) + 2
    if t is int:
        bits = value.bit_length()
        return 21 if bits < 64 else bits * 30103 // 100000 + 2
    size = _SCALAR_SIZES.get(t)
    if size is not None:
        return size
    if t is Decimal:
        exponent = value.as_tuple().exponent
        # Formatting with "f" writes every digit out, so count the exponent as digits.
        return len(value.as_tuple().digits) + (abs(exponent) if isinstance(exponent, int) else 0) + 3
    if t in (dict, list, tuple, set, frozenset) or isinstance(value, _CONTAINERS):
        return None
    return _OTHER_SIZE


def text_size(value: Any, budget: int, indent: int = 0) -> int:
    """Estimate how many characters `str(value)` or JSON of `value` would take.

    Stops as soon as the estimate passes `budget` (returning a number above it), so the
    cost is bounded by the budget rather than by the value. Shared sub-structures are
    counted once per occurrence but walked once (memoised by id), which is what catches
    `a = [a, a]` doubling: twenty lines of script describe a megabyte-sized value that
    `str()` or the engine's JSON encoder would otherwise expand into gigabytes.
    Iterative, so deeply nested values cannot exhaust the stack.
    """
    t = type(value)
    size = _scalar_size(value, t)
    if size is not None:
        return size
    memo: dict[int, int] = {}
    active: set[int] = set()
    # Each frame: [container id, iterator of children, accumulated size, depth]
    stack: list[list[Any]] = [[id(value), _children(value), 2, 1]]
    active.add(id(value))
    keep_alive: list[Any] = [value]  # ids stay valid while the objects are referenced
    while stack:
        frame = stack[-1]
        child = next(frame[1], _END)
        if child is _END:
            stack.pop()
            active.discard(frame[0])
            memo[frame[0]] = frame[2]
            if not stack:
                return frame[2]
            parent = stack[-1]
            parent[2] += frame[2]
            if parent[2] > budget:
                return budget + 1
            continue
        per_item = 2 + (1 + indent * frame[3] if indent else 0)  # ", " plus newline and indent
        ct = type(child)
        size = _scalar_size(child, ct)
        if size is None:
            key = id(child)
            if key in memo:
                size = memo[key]
            elif key in active:
                size = 5  # a cycle prints as [...]
            else:
                frame[2] += per_item
                active.add(key)
                keep_alive.append(child)
                stack.append([key, _children(child), 2, frame[3] + 1])
                continue
        frame[2] += size + per_item
        if frame[2] > budget:
            return budget + 1
    return 0  # unreachable: the root frame returns above


_END = object()


def _children(container: Any) -> Any:
    """Iterate over what a container prints: dict keys and values, other items."""
    if isinstance(container, dict):
        return (part for item in container.items() for part in item)
    if isinstance(container, BaseException):
        return iter(container.args)
    if isinstance(container, GenericAlias):
        return iter(container.__args__)
    return iter(container)
