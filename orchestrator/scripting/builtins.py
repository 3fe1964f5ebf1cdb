"""The names a script can use without defining them: our allow-list, built once per Sandbox.

Not RestrictedPython's `safe_builtins`: that list is written for Zope (it includes
`__build_class__`, `setattr`, `id`, `pow`), and as of 9.0 it drops `sorted`, `zip` and
`tuple` because they iterate in C past `_getiter_`. Our `_getiter_` checks nothing (there
is nothing secret inside process data), so those are safe here.

`str` and `int` are stand-in classes: `isinstance(x, str)` works as usual, but `str(x)`
refuses to expand `[s] * 1000` into gigabytes and `int(x)` refuses to convert
`Decimal('1e999999')`, which takes CPython half a minute in C where no time limit can
interrupt it.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import FunctionType
from typing import Any, Callable, Iterable

from .attributes import Namespace, make_getattr
from .guards import Sizer, make_base_guards
from .values import text_size

#: Exception classes scripts may catch and raise. Not BaseException, SystemExit,
#: KeyboardInterrupt, GeneratorExit or MemoryError: the runtime owns those.
EXCEPTIONS: tuple[type[Exception], ...] = (
    Exception,
    ArithmeticError,
    AssertionError,
    AttributeError,
    IndexError,
    KeyError,
    LookupError,
    NameError,
    NotImplementedError,
    OverflowError,
    RecursionError,
    RuntimeError,
    StopIteration,
    TypeError,
    ValueError,
    ZeroDivisionError,
)

#: Builtins passed through unchanged: they take bounded time and memory on bounded input.
PLAIN_BUILTINS: dict[str, Any] = {
    "len": len,
    "min": min,
    "max": max,
    "sorted": sorted,
    "enumerate": enumerate,
    "zip": zip,
    "reversed": reversed,
    "map": map,
    "filter": filter,
    "any": any,
    "all": all,
    "abs": abs,
    "divmod": divmod,
    "isinstance": isinstance,
    "float": float,
    "bool": bool,
    "dict": dict,
    "list": list,
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "next": next,
    "chr": chr,
    "ord": ord,
    "callable": callable,
    "datetime": datetime,
    "date": date,
    "time": time,
    "timedelta": timedelta,
    "timezone": timezone,
    "Decimal": Decimal,
}

def _type_stand_in(real: type, call: Callable[..., Any]) -> type:
    """A class that passes for `real` in isinstance() but builds values through `call`."""

    class StandIn(type):
        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, real)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, real)

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            return call(*args, **kwargs)

        def __repr__(cls) -> str:
            return repr(real)

    return StandIn(real.__name__, (), {"__slots__": ()})


class PrintCollector:
    """Where `print()` output goes: kept (bounded) for the engine to log if it wants.

    RestrictedPython compiles `print(x)` into `_print._call_print(x)` after
    `_print = _print_(_getattr_)`, and `printed` into `_print()`.
    """

    MAX_CHARS = 64 * 1024

    __slots__ = ("_parts", "_size", "_to_str")

    def __init__(self, to_str: Callable[[Any], str]) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._to_str = to_str

    def factory(self, _getattr_: Any = None) -> PrintCollector:
        """`_print_`: every module and function body shares this run's collector."""
        return self

    def __call__(self) -> str:
        return "".join(self._parts)

    def _call_print(self, *objects: Any, sep: str | None = " ", end: str | None = "\n", flush: bool = False) -> None:
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        if type(sep) is not str or type(end) is not str:
            raise TypeError("sep and end must be strings")
        room = self.MAX_CHARS - self._size
        pieces: list[str] = []
        for index, obj in enumerate(objects):
            if room <= 0:
                break
            for piece in (sep, self._to_str(obj)) if index else (self._to_str(obj),):
                pieces.append(piece[:room])
                room -= len(piece)
        if room > 0:
            pieces.append(end[:room])
            room -= len(end)
        if room < 0 and self._size < self.MAX_CHARS:
            pieces.append("\n[output truncated]\n")
        text = "".join(pieces)
        self._parts.append(text)
        self._size = self.MAX_CHARS if room <= 0 else self._size + len(text)


def build_builtins(sizer: Sizer) -> dict[str, Any]:
    """The `__builtins__` mapping shared (read-only) by every run of one Sandbox."""
    max_items = sizer.max_items

    def to_int(*args: Any, **kwargs: Any) -> int:
        if args:
            sizer.decimal_int(args[0])
        return int(*args, **kwargs)

    def to_str(*args: Any, **kwargs: Any) -> str:
        if len(args) == 1 and not kwargs:
            return sizer.to_str(args[0])
        return str(*args, **kwargs)

    def guarded_round(number: Any, ndigits: Any = None) -> Any:
        if ndigits is None:
            sizer.decimal_int(number)
        return round(number, ndigits)

    def guarded_range(*args: Any) -> range:
        result = range(*args)
        try:
            length = len(result)
        except OverflowError:
            length = max_items + 1
        sizer.items(length, "a range")
        return result

    def guarded_sum(iterable: Iterable[Any], /, start: Any = 0) -> Any:
        # sum() of lists or strings is quadratic and runs in C, out of the time limit's reach.
        if not isinstance(start, (int, float, Decimal)):
            raise TypeError("sum() in scripts adds numbers only; use ''.join() for text or a loop for lists")
        return sum(iterable, start)

    def guarded_iter(obj: Any, *sentinel: Any) -> Any:
        # No iter(callable, sentinel): an endless iterator that C code (max, list) would
        # consume without ever returning to the interpreter to notice the time limit.
        if sentinel:
            raise TypeError("iter(callable, sentinel) is not available in scripts")
        return iter(obj)

    def json_default(value: Any) -> Any:
        if isinstance(value, (datetime, date, time)):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"values of type {type(value).__name__} cannot be written as JSON")

    def json_dumps(value: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
        """JSON text of a value; dates become ISO strings, Decimals strings."""
        if indent is not None and (type(indent) is not int or not 0 <= indent <= 8):
            raise ValueError("indent must be None or an integer from 0 to 8")
        sizer.chars(text_size(value, max_items, indent or 0))
        result = json.dumps(
            value, indent=indent, sort_keys=bool(sort_keys), ensure_ascii=False, default=json_default
        )
        sizer.chars(len(result))
        return result

    def json_loads(text: str) -> Any:
        """Parse JSON text (objects become dicts, arrays lists)."""
        if not isinstance(text, str):
            raise TypeError("json_loads() expects a string")
        sizer.chars(len(text))
        return json.loads(text)

    str_type = _type_stand_in(str, to_str)
    int_type = _type_stand_in(int, to_int)
    guarded_getattr = make_getattr(sizer, str_type)
    missing = object()

    def guarded_hasattr(obj: Any, name: str, /) -> bool:
        return guarded_getattr(obj, name, missing) is not missing

    names: dict[str, Any] = dict(PLAIN_BUILTINS)
    names.update({exc.__name__: exc for exc in EXCEPTIONS})
    names.update(
        {
            "str": str_type,
            "int": int_type,
            "repr": sizer.to_repr,
            "round": guarded_round,
            "range": guarded_range,
            "sum": guarded_sum,
            "iter": guarded_iter,
            "getattr": guarded_getattr,
            "hasattr": guarded_hasattr,
            "json_dumps": json_dumps,
            "json_loads": json_loads,
            "math": _math_namespace(sizer),
        }
    )
    names.update(make_base_guards(sizer))
    names["_getattr_"] = guarded_getattr
    for name, value in names.items():
        if isinstance(value, FunctionType) and not name.startswith("_"):
            value.__qualname__ = value.__name__ = name  # "range() takes...", not "build_builtins.<locals>..."
    return names


def _math_namespace(sizer: Sizer) -> Namespace:
    """`math`'s public functions and constants, with its integer builders bounded."""
    ln2 = math.log(2)

    def lgamma_bits(*terms: tuple[int, int]) -> float:
        try:
            return sum(sign * math.lgamma(n + 1) for sign, n in terms) / ln2
        except OverflowError:
            return math.inf

    def factorial(n: Any, /) -> int:
        if isinstance(n, int) and n > 20:
            sizer.bits(lgamma_bits((1, n)))
        return math.factorial(n)

    def comb(n: Any, k: Any, /) -> int:
        if isinstance(n, int) and isinstance(k, int) and 0 < k < n:
            sizer.bits(lgamma_bits((1, n), (-1, k), (-1, n - k)))
        return math.comb(n, k)

    def perm(n: Any, k: Any = None, /) -> int:
        if isinstance(n, int) and (k is None or isinstance(k, int)) and 0 <= (n if k is None else k) <= n:
            sizer.bits(lgamma_bits((1, n), (-1, n - (n if k is None else k))))
        return math.perm(n, k)

    def prod(iterable: Iterable[Any], /, *, start: Any = 1) -> Any:
        items = sizer.materialise(iterable)
        bits = sum(x.bit_length() for x in (start, *items) if isinstance(x, int))
        sizer.bits(bits)
        return math.prod(items, start=start)

    def lcm(*integers: Any) -> int:
        sizer.bits(sum(x.bit_length() for x in integers if isinstance(x, int)))
        return math.lcm(*integers)

    def rounding(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def guarded(x: Any, /) -> Any:
            sizer.decimal_int(x)
            return function(x)

        return guarded

    members = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
    members.update(
        factorial=factorial,
        comb=comb,
        perm=perm,
        prod=prod,
        lcm=lcm,
        floor=rounding(math.floor),
        ceil=rounding(math.ceil),
        trunc=rounding(math.trunc),
    )
    for name, value in members.items():
        if isinstance(value, FunctionType):
            value.__qualname__ = value.__name__ = name
    return Namespace("math", members)

