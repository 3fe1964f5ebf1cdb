"""Process variables: JSON, plus `datetime`, `date`, `time` and `Decimal` in a typed encoding.

Scripts produce Python values; state is stored as JSON. A date must come back as a date and a
Decimal as a Decimal, never silently as a string, or a condition such as `due < today` changes
meaning after a restart. So these four are stored as `{"$type": ..., "value": ...}` and decoded
before a script or condition sees them; anything else that is not JSON is refused with an error
naming the variable.
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any, Mapping

from orchestrator.errors import VariableError

TYPE_KEY = "$type"


def encode_value(name: str, value: Any) -> Any:
    """The JSON form of `value`; raises VariableError naming `name` for what cannot be stored."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if math.isnan(value) or math.isinf(value):
            raise VariableError(f"variable {name!r}: {value!r} is not a number JSON can store")
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise VariableError(f"variable {name!r}: dictionary keys must be strings, not {type(key).__name__} ({key!r})")
            out[key] = encode_value(name, item)
        if TYPE_KEY in out and len(out) == 2 and "value" in out:
            raise VariableError(f"variable {name!r}: a dictionary with the keys '$type' and 'value' is reserved for typed values")
        return out
    if kind is list or kind is tuple:
        return [encode_value(name, item) for item in value]
    if kind is dt.datetime:
        return {TYPE_KEY: "datetime", "value": value.isoformat()}
    if kind is dt.date:
        return {TYPE_KEY: "date", "value": value.isoformat()}
    if kind is dt.time:
        return {TYPE_KEY: "time", "value": value.isoformat()}
    if kind is Decimal:
        if not value.is_finite():
            raise VariableError(f"variable {name!r}: {value!r} is not a finite decimal")
        return {TYPE_KEY: "decimal", "value": str(value)}
    if isinstance(value, bool):  # subclasses of bool cannot exist; keeps the order of checks obvious
        return bool(value)
    raise VariableError(
        f"variable {name!r}: a value of type {type(value).__name__} cannot be stored "
        "(use JSON values, datetime, date, time or Decimal)"
    )


_DECODERS = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "decimal": Decimal,
}


def decode_value(value: Any) -> Any:
    """The Python form of a stored value."""
    kind = type(value)
    if kind is dict:
        if len(value) == 2 and TYPE_KEY in value and "value" in value:
            decoder = _DECODERS.get(value[TYPE_KEY])
            if decoder is not None:
                return decoder(value["value"])
        return {key: decode_value(item) for key, item in value.items()}
    if kind is list:
        return [decode_value(item) for item in value]
    return value


def _has_typed(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        return TYPE_KEY in value or any(_has_typed(v) for v in value.values())
    if kind is list:
        return any(_has_typed(v) for v in value)
    return False


def decode_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Python values for scripts and conditions. Values without typed parts are shared, not
    copied: the sandbox copies what a script may change."""
    return {name: decode_value(value) if _has_typed(value) else value for name, value in variables.items()}


def encode_variables(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        if type(name) is not str or not name:
            raise VariableError(f"variable names must be non-empty strings, not {name!r}")
        out[name] = encode_value(name, value)
    return out
