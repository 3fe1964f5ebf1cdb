"""Typed variable encoding: exact round trips, or a refusal naming the variable."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from orchestrator.errors import VariableError
from orchestrator.runtime.variables import decode_value, decode_variables, encode_value, encode_variables

VALUES = [
    dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.datetime(2026, 1, 1, 9, 0),  # naive stays naive
    dt.date(2026, 2, 28),
    dt.time(23, 59, 59, 123456),
    Decimal("0.1"),
    Decimal("-12345678901234567890.000000001"),
    {"nested": [Decimal("1.10"), {"when": dt.date(2020, 1, 1)}]},
]


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ + str(i) for i, v in enumerate(VALUES)])
def test_typed_values_round_trip_exactly_through_json(value):
    stored = json.loads(json.dumps(encode_value("v", value)))
    back = decode_value(stored)
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, Decimal):
        assert str(back) == str(value)  # trailing zeros and precision kept


@pytest.mark.parametrize("value, fragment", [
    ({1, 2}, "set"), (b"raw", "bytes"), (float("nan"), "not a number"), (object(), "object"),
    ({1: "a"}, "keys must be strings"), (Decimal("Infinity"), "finite"),
    ({"$type": "datetime", "value": "x"}, "reserved"),
])
def test_values_that_cannot_be_stored_are_refused_naming_the_variable(value, fragment):
    with pytest.raises(VariableError) as err:
        encode_variables({"order": value})
    assert "'order'" in str(err.value) and fragment in str(err.value)


def test_never_silently_turned_into_strings():
    encoded = encode_value("d", dt.date(2026, 1, 2))
    assert encoded != "2026-01-02"
    assert decode_variables({"d": encoded})["d"] == dt.date(2026, 1, 2)


def test_tuples_are_stored_as_lists():
    assert encode_value("t", (1, 2)) == [1, 2]
