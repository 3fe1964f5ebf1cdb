"""Guards that compiled scripts call instead of the operators and statements they wrote.

`policy.BatonPolicy` rewrites `a * b` into `_mul_(a, b)`, `f"{x}"` into `_fjoin_(...)` and
so on; the functions here estimate the size of the result *before* computing it, because
by the time `'a' * 10**11` has been computed the worker is already gone. Stateless apart
from the limits they close over, so one set serves every thread.
"""
from __future__ import annotations

import math
import operator
import re
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

from .limits import MemoryExhausted, SandboxLimits, SizeLimitExceeded
from .values import text_size

_SEQUENCE_TYPES = frozenset({str, list, tuple, bytes, bytearray})

# One %-format conversion: %(key)flags width .precision length conversion
_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<prec>\*|\d+))?[hlL]?(?P<conv>.?)",
    re.DOTALL,
)
_DIGITS = re.compile(r"\d+")
_BITS_PER_DIGIT = math.log2(10)


def _kind(value: Any) -> str:
    return {str: "string", list: "list", tuple: "tuple"}.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class Sizer:
    """The size checks, phrased for process authors, shared by guards and builtins."""

    max_items: int
    max_bits: int

    @classmethod
    def from_limits(cls, limits: SandboxLimits) -> Sizer:
        return cls(limits.max_sequence_length, limits.max_int_bits)

    def items(self, count: int, what: str = "a sequence") -> None:
        if count > self.max_items:
            raise SizeLimitExceeded(
                f"this would build {what} of {count:,} items, more than the limit of {self.max_items:,}"
            )

    def chars(self, count: int) -> None:
        if count > self.max_items:
            raise SizeLimitExceeded(
                f"this would build a text of about {count:,} characters, "
                f"more than the limit of {self.max_items:,}"
            )

    def bits(self, count: float) -> None:
        if count > self.max_bits:
            raise SizeLimitExceeded(
                f"this would build an integer of about {int(count):,} bits, "
                f"more than the limit of {self.max_bits:,} bits"
            )

    def decimal_int(self, value: Any) -> None:
        """Refuse int(Decimal) beyond max_bits: CPython needs 30 s for Decimal('1e999999')."""
        if type(value) is Decimal and value.is_finite():
            self.bits(max(value.adjusted(), 0) * _BITS_PER_DIGIT)

    def text_of(self, value: Any, spare: int = 0) -> None:
        """Refuse to stringify `value` (padded by `spare`) if the text would be too long."""
        size = text_size(value, self.max_items) + spare
        if size > self.max_items:
            self.chars(size)

    def to_str(self, value: Any) -> str:
        """`str(value)` that refuses oversized results (`str([s] * 1000)` with a long s)."""
        if type(value) is str:
            return value
        self.text_of(value)
        result = str(value)
        self.chars(len(result))
        return result

    def to_repr(self, value: Any) -> str:
        self.text_of(value)
        result = repr(value)
        self.chars(len(result))
        return result

    def to_ascii(self, value: Any) -> str:
        self.text_of(value)
        result = ascii(value)
        self.chars(len(result))
        return result

    def materialise(self, iterable: Iterable[Any]) -> list[Any] | tuple[Any, ...]:
        return iterable if type(iterable) in (list, tuple) else list(iterable)  # type: ignore[return-value]


def make_operator_guards(sizer: Sizer) -> dict[str, Callable[..., Any]]:
    """Build the functions the transformer substitutes for growth operators."""
    max_items = sizer.max_items
    max_bits = sizer.max_bits
    seq_types = _SEQUENCE_TYPES

    def add(a: Any, b: Any) -> Any:
        ta = type(a)
        if ta is int or ta is float:
            return a + b
        if ta in seq_types and type(b) in seq_types and len(a) + len(b) > max_items:
            sizer.items(len(a) + len(b), f"a {_kind(a)}")
        return a + b

    def mul(a: Any, b: Any) -> Any:
        ta = type(a)
        tb = type(b)
        if ta is int and tb is int:
            if a.bit_length() + b.bit_length() > max_bits:
                sizer.bits(a.bit_length() + b.bit_length())
        elif ta in seq_types:
            if isinstance(b, int) and len(a) * b > max_items:
                sizer.items(len(a) * b, f"a {_kind(a)}")
        elif tb in seq_types:
            if isinstance(a, int) and len(b) * a > max_items:
                sizer.items(len(b) * a, f"a {_kind(b)}")
        return a * b

    def power(a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b > 1 and (a > 1 or a < -1):
            bits = b * math.log2(abs(a))
            if bits > max_bits:
                sizer.bits(bits)
        return a**b

    def lshift(a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0 and a.bit_length() + b > max_bits:
            sizer.bits(a.bit_length() + b)
        return a << b

    def modulo(a: Any, b: Any) -> Any:
        if type(a) is not str:
            return a % b
        _check_percent_format(a, b)
        result = a % b
        sizer.chars(len(result))
        return result

    def _check_percent_format(fmt: str, args: Any) -> None:
        """Estimate `fmt % args` before running it: widths, precisions and argument sizes."""
        padding = 0
        conversions = 0
        keys: list[str] = []
        for match in _PERCENT_SPEC.finditer(fmt):
            if match.group("conv") == "%":
                continue
            conversions += 1
            width, prec = match.group("width"), match.group("prec")
            if width == "*" or prec == "*":
                raise ValueError("'*' widths and precisions in %-formatting are not supported in scripts")
            padding += int(width or 0) + int(prec or 0)
            if match.group("key") is not None:
                keys.append(match.group("key"))
        sizer.chars(len(fmt) + padding)
        if type(args) is tuple:
            values: Iterable[Any] = args
            repeat = 1
        elif keys and isinstance(args, dict):
            values = [args[key] for key in keys if key in args]
            repeat = 1
        else:
            values = (args,)
            repeat = conversions
        arguments = 0
        for value in values:
            sizer.decimal_int(value)  # %d converts a Decimal to int
            arguments += text_size(value, max_items)
        sizer.chars(len(fmt) + padding + repeat * arguments)

    def format_value(value: Any, conversion: int, spec: str) -> str:
        """One f-string field: `f"{value!r:>10}"` becomes format_value(value, 114, ">10")."""
        if conversion == -1 and not spec and type(value) is str:
            return value
        if conversion == 115:
            value = sizer.to_str(value)
        elif conversion == 114:
            value = sizer.to_repr(value)
        elif conversion == 97:
            value = sizer.to_ascii(value)
        padding = sum(int(d) for d in _DIGITS.findall(spec)) if spec else 0
        if type(value) is str:
            sizer.chars(len(value) + padding)
        else:
            sizer.text_of(value, padding)
        result = format(value, spec)
        sizer.chars(len(result))
        return result

    def join_fstring(parts: tuple[str, ...]) -> str:
        """An f-string's pieces: checked together, since `f"{s}{s}"` doubles s."""
        total = 0
        for part in parts:
            total += len(part)
        sizer.chars(total)
        return "".join(parts)

    def set_slice(value: Any, target: Any, lower: Any, upper: Any, step: Any) -> None:
        """`target[lower:upper:step] = value`, which can grow a list: `l[len(l):] = l`."""
        if not isinstance(target, list):
            raise TypeError(f"'{type(target).__name__}' object does not support slice assignment")
        items = sizer.materialise(value)
        where = slice(lower, upper, step)
        removed = len(range(*where.indices(len(target))))
        sizer.items(len(target) - removed + len(items), "a list")
        target[where] = items

    inplace_plain: dict[str, Callable[[Any, Any], Any]] = {
        "-=": operator.isub,
        "/=": operator.itruediv,
        "//=": operator.ifloordiv,
        ">>=": operator.irshift,
        "|=": operator.ior,
        "^=": operator.ixor,
        "&=": operator.iand,
        "@=": operator.imatmul,
    }

    def inplace(op: str, target: Any, value: Any) -> Any:
        """`x op= y`: in place for lists (aliases see the change, as in Python), guarded."""
        if op == "+=":
            if type(target) is list:
                value = sizer.materialise(value)
                sizer.items(len(target) + len(value), "a list")
                target += value
                return target
            return add(target, value)
        if op == "*=":
            if type(target) is list:
                if isinstance(value, int):
                    sizer.items(len(target) * value, "a list")
                target *= value
                return target
            return mul(target, value)
        if op == "**=":
            return power(target, value)
        if op == "<<=":
            return lshift(target, value)
        if op == "%=":
            return modulo(target, value)
        return inplace_plain[op](target, value)

    return {
        "_add_": add,
        "_mul_": mul,
        "_pow_": power,
        "_lshift_": lshift,
        "_mod_": modulo,
        "_inplacevar_": inplace,
        "_format_": format_value,
        "_fjoin_": join_fstring,
        "_setslice_": set_slice,
    }


def write_guard(obj: Any) -> Any:
    """Target of `x[k] = v` / `del x[k]`: only dicts and lists are writable."""
    if isinstance(obj, (dict, list)):
        return obj
    raise TypeError(f"'{type(obj).__name__}' object cannot be modified in scripts")


def raise_guard(exc: Any) -> Any:
    """Operand of `raise`: only Exception subclasses, so no script can raise SystemExit,
    KeyboardInterrupt or GeneratorExit and have the worker treat it as its own."""
    if isinstance(exc, Exception) or (isinstance(exc, type) and issubclass(exc, Exception)):
        return exc
    raise TypeError("scripts can only raise exceptions derived from Exception")


def handler_guard() -> None:
    """First statement of every `except` and `finally` block a script writes.

    Re-raises what a bare `except:` must not swallow (our aborts, KeyboardInterrupt,
    SystemExit, GeneratorExit) and turns an out-of-memory error into an abort, since the
    evaluation cannot sensibly go on after the address-space backstop was hit.
    """
    exc = sys.exc_info()[1]
    if exc is None or (isinstance(exc, Exception) and not isinstance(exc, MemoryError)):
        return
    if isinstance(exc, MemoryError):
        raise MemoryExhausted() from None
    raise exc


def apply_guard(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`f(*args, **kwargs)`. Nothing to check: arguments are script values already."""
    return func(*args, **kwargs)


def unpack_sequence(iterable: Any, spec: Any, getiter: Any) -> Any:
    """`a, b = x`: native unpacking. RestrictedPython routes it through `_getiter_` so that
    Zope can check every item; our `_getiter_` checks nothing, so skip the list copy."""
    return iterable


def iter_unpack_sequence(iterable: Any, spec: Any, getiter: Any) -> Any:
    """`for a, b in x`: native unpacking, see `unpack_sequence`."""
    return iterable


def make_base_guards(sizer: Sizer) -> dict[str, Any]:
    """Every guard name the transformed code refers to, except `_getattr_` (attributes.py)."""
    guards: dict[str, Any] = {
        "_getitem_": operator.getitem,
        "_getiter_": iter,
        "_write_": write_guard,
        "_raise_": raise_guard,
        "_handler_guard_": handler_guard,
        "_apply_": apply_guard,
        "_unpack_sequence_": unpack_sequence,
        "_iter_unpack_sequence_": iter_unpack_sequence,
    }
    guards.update(make_operator_guards(sizer))
    return guards


def _named(owner: str, methods: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Name wrappers as the methods they stand for, so errors read "str.ljust() takes..."."""
    for name, method in methods.items():
        method.__name__ = name
        method.__qualname__ = f"{owner}.{name}"
    return methods


def guarded_str_methods(sizer: Sizer) -> dict[str, Callable[..., Any]]:
    """str methods whose result can be much longer than the string they are called on."""

    def _need_str(s: Any, name: str) -> None:
        if not isinstance(s, str):
            raise TypeError(f"descriptor '{name}' requires a 'str' object but received a '{type(s).__name__}'")

    def _width(width: Any) -> None:
        if isinstance(width, int):
            sizer.chars(width)

    def ljust(s: str, width: int, fillchar: str = " ", /) -> str:
        _need_str(s, "ljust")
        _width(width)
        return s.ljust(width, fillchar)

    def rjust(s: str, width: int, fillchar: str = " ", /) -> str:
        _need_str(s, "rjust")
        _width(width)
        return s.rjust(width, fillchar)

    def center(s: str, width: int, fillchar: str = " ", /) -> str:
        _need_str(s, "center")
        _width(width)
        return s.center(width, fillchar)

    def zfill(s: str, width: int, /) -> str:
        _need_str(s, "zfill")
        _width(width)
        return s.zfill(width)

    def expandtabs(s: str, tabsize: int = 8) -> str:
        _need_str(s, "expandtabs")
        if isinstance(tabsize, int) and tabsize > 0:
            sizer.chars(len(s) + s.count("\t") * tabsize)
        return s.expandtabs(tabsize)

    def replace(s: str, old: str, new: str, count: int = -1, /) -> str:
        _need_str(s, "replace")
        if isinstance(old, str) and isinstance(new, str) and isinstance(count, int) and len(new) > len(old):
            hits = len(s) + 1 if not old else s.count(old)
            if count >= 0:
                hits = min(hits, count)
            sizer.chars(len(s) + hits * (len(new) - len(old)))
        return s.replace(old, new, count)

    def join(s: str, iterable: Iterable[Any], /) -> str:
        _need_str(s, "join")
        items = sizer.materialise(iterable)
        total = len(s) * max(len(items) - 1, 0)
        for item in items:
            if type(item) is str:
                total += len(item)
        sizer.chars(total)
        return s.join(items)

    return _named("str", {
        "ljust": ljust,
        "rjust": rjust,
        "center": center,
        "zfill": zfill,
        "expandtabs": expandtabs,
        "replace": replace,
        "join": join,
    })


def guarded_list_methods(sizer: Sizer) -> dict[str, Callable[..., Any]]:
    """list methods that can grow a list by more than one item: `l.extend(l)` doubles it."""

    def extend(target: list[Any], iterable: Iterable[Any], /) -> None:
        if not isinstance(target, list):
            raise TypeError("descriptor 'extend' requires a 'list' object")
        items = sizer.materialise(iterable)
        sizer.items(len(target) + len(items), "a list")
        target.extend(items)

    return _named("list", {"extend": extend})


def guarded_strftime(sizer: Sizer) -> Callable[..., str]:
    """date/datetime/time.strftime: "%c" writes 24 characters for 2, so bound the format."""

    def strftime(value: Any, fmt: str, /) -> str:
        if isinstance(fmt, str):
            sizer.chars(len(fmt) * 16)
        return value.strftime(fmt)  # type: ignore[no-any-return]

    return strftime
