"""Which attributes a script may read, by type: an allow-list, not a deny-list.

RestrictedPython's `safer_getattr` refuses known-bad names (underscores, frame and code
attributes, `str.format`); every advisory against it so far was a name or a path it had
not thought of (generator frames, `AttributeError.obj`, `string.Formatter`). Here a type
that is not listed has no attributes at all, and a listed type has only the data methods
process scripts need, so a new Python release adding an introspection attribute does not
open anything.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Mapping

from .guards import Sizer, guarded_list_methods, guarded_str_methods, guarded_strftime


def _existing(cls: type, names: str) -> frozenset[str]:
    """Keep the names this Python version has (e.g. int.is_integer is 3.12+)."""
    return frozenset(name for name in names.split() if hasattr(cls, name))


_STR_METHODS = _existing(
    str,
    "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal isdigit "
    "isidentifier islower isnumeric isprintable isspace istitle isupper lower lstrip partition "
    "removeprefix removesuffix rfind rindex rpartition rsplit rstrip split splitlines startswith "
    "strip swapcase title upper",
)  # plus the size-guarded ones: center expandtabs join ljust replace rjust zfill
_INT_ATTRS = _existing(
    int, "bit_length bit_count conjugate real imag numerator denominator as_integer_ratio is_integer"
)
_DATE_ATTRS = "year month day replace weekday isoweekday isocalendar isoformat ctime toordinal"
_TIME_ATTRS = "hour minute second microsecond tzinfo fold utcoffset dst tzname"

INSTANCE_ATTRIBUTES: Mapping[type, frozenset[str]] = {
    str: _STR_METHODS,
    int: _INT_ATTRS,
    bool: _INT_ATTRS,
    float: _existing(float, "is_integer as_integer_ratio conjugate real imag hex"),
    list: _existing(list, "append insert pop remove index count sort reverse copy clear"),
    tuple: _existing(tuple, "count index"),
    dict: _existing(dict, "keys values items get pop popitem setdefault update copy clear"),
    set: _existing(
        set,
        "add discard remove pop clear copy union intersection difference symmetric_difference "
        "update intersection_update difference_update symmetric_difference_update "
        "issubset issuperset isdisjoint",
    ),
    frozenset: _existing(
        frozenset,
        "copy union intersection difference symmetric_difference issubset issuperset isdisjoint",
    ),
    type({}.keys()): frozenset({"isdisjoint"}),
    type({}.items()): frozenset({"isdisjoint"}),
    Decimal: _existing(
        Decimal,
        "adjusted as_tuple compare conjugate copy_abs copy_negate copy_sign exp fma "
        "is_finite is_infinite is_nan is_signed is_zero ln log10 max min normalize quantize "
        "remainder_near sqrt to_eng_string to_integral to_integral_exact to_integral_value real imag",
    ),
    date: _existing(date, _DATE_ATTRS),
    datetime: _existing(
        datetime, f"{_DATE_ATTRS} {_TIME_ATTRS} date time timetz astimezone timestamp"
    ),
    time: _existing(time, f"{_TIME_ATTRS} replace isoformat"),
    timedelta: _existing(timedelta, "days seconds microseconds total_seconds"),
    timezone: _existing(timezone, "utcoffset tzname dst"),
    type(date(2000, 1, 1).isocalendar()): frozenset({"year", "week", "weekday"}),
}

#: Attributes read on the classes themselves: constructors and constants.
CLASS_ATTRIBUTES: Mapping[type, frozenset[str]] = {
    datetime: _existing(
        datetime,
        "now today utcnow fromisoformat fromtimestamp utcfromtimestamp combine strptime "
        "fromordinal fromisocalendar min max resolution",
    ),
    date: _existing(date, "today fromisoformat fromtimestamp fromordinal fromisocalendar min max resolution"),
    time: _existing(time, "fromisoformat min max resolution"),
    timedelta: _existing(timedelta, "min max resolution"),
    timezone: _existing(timezone, "utc min max"),
    Decimal: frozenset({"from_float"}),
    dict: frozenset({"fromkeys"}),
    float: frozenset({"fromhex"}),
}

_HINTS = {
    "format": "str.format is not available in scripts; use an f-string",
    "format_map": "str.format_map is not available in scripts; use an f-string",
    "encode": "bytes are not available in scripts",
    "translate": "str.translate is not available in scripts; use replace()",
}

_MISSING: Any = object()


class BoundMethod:
    """A size-guarded method bound to its object (`'x'.ljust` in a script).

    Not functools.partial: its repr embeds the object's, so `str(l.extend)` would be a
    way around the size checks of `str(l)`.
    """

    __slots__ = ("_function", "_target")

    def __init__(self, function: Callable[..., Any], target: Any) -> None:
        self._function = function
        self._target = target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._function(self._target, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<built-in method {self._function.__name__} of {type(self._target).__name__} object>"


class Namespace:
    """A read-only bag of functions and constants standing in for a module (`math`).

    The real module object would hand scripts its `__loader__`, `__spec__` and whatever
    it imported; this exposes exactly the members it was built with.
    """

    __slots__ = ("_name", "_members")

    def __init__(self, name: str, members: Mapping[str, Any]) -> None:
        self._name = name
        self._members = dict(members)

    def __repr__(self) -> str:
        return f"<module '{self._name}' (restricted)>"


def make_getattr(sizer: Sizer, str_type: type) -> Callable[..., Any]:
    """Build `_getattr_` (also exposed as `getattr`): attribute reads under the allow-list.

    `str_type` is the sandbox's stand-in for `str` (see builtins.py), whose class-level
    methods map to the real str's.
    """
    instance_attrs = INSTANCE_ATTRIBUTES
    wrapped: dict[type, dict[str, Callable[..., Any]]] = {
        str: guarded_str_methods(sizer),
        list: guarded_list_methods(sizer),
    }
    strftime = guarded_strftime(sizer)
    for cls in (date, datetime, time):
        wrapped[cls] = {"strftime": strftime}
    class_attrs: dict[Any, frozenset[str]] = dict(CLASS_ATTRIBUTES)
    class_wrapped: dict[Any, dict[str, Callable[..., Any]]] = {str_type: wrapped[str]}
    class_real: dict[Any, type] = {str_type: str}
    class_attrs[str_type] = _STR_METHODS

    def guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
        if type(name) is not str:
            raise TypeError("attribute name must be a string")
        t = type(obj)
        methods = wrapped.get(t)
        if methods is not None:
            method = methods.get(name)
            if method is not None:
                return BoundMethod(method, obj)
        allowed = instance_attrs.get(t)
        if allowed is not None:
            if name in allowed:
                return getattr(obj, name)
        elif t is Namespace:
            value = obj._members.get(name, _MISSING)
            if value is not _MISSING:
                return value
        elif isinstance(obj, type):
            methods = class_wrapped.get(obj)
            if methods is not None and name in methods:
                return methods[name]
            if name in class_attrs.get(obj, ()):
                return getattr(class_real.get(obj, obj), name)
        elif isinstance(obj, BaseException):
            if name == "args" or (name == "value" and isinstance(obj, StopIteration)):
                return getattr(obj, name)
        if default is not _MISSING:
            return default
        # A fresh error: AttributeError.obj of one raised by getattr() would hand the
        # script the object it was not allowed to look into (CVE-2024-47532).
        if name.startswith("_"):
            raise AttributeError(f"attribute '{name}' is not available in scripts: names starting with '_' are private")
        hint = _HINTS.get(name) if t is str or obj is str_type else None
        raise AttributeError(hint or f"'{_type_name(obj, str_type)}' object has no attribute '{name}' that scripts may use")

    return guarded_getattr


def _type_name(obj: Any, str_type: type) -> str:
    if isinstance(obj, type):
        return "str" if obj is str_type else obj.__name__
    if isinstance(obj, Namespace):
        return f"module {obj._name}"
    return type(obj).__name__
