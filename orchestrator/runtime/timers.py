"""Timers: what a timeDate, timeDuration or timeCycle means, and when it is due.

Reading a timer (`read_timer`, and `check_timer` for `validate`) tries three readings in turn and
records which one it used:

1. **literal**: an ISO 8601 value or a cron expression as written, the way Camunda models carry
   them: `PT10M`, `2026-01-01T09:00`, `R3/PT10M`, `0 0/5 * * * ?`;
2. **juel**: a single `${...}` (simple JUEL, translated by `read_expression`), e.g. `${due}` for a
   variable holding a date or a duration;
3. **python**: a Python expression, the way SpiffWorkflow models write them: `"PT1S"` (quoted),
   `futuredate` (a variable holding a date).

Expressions are evaluated once, when the timer is created, through the `evaluate` callable the
engine passes (it wraps the sandbox). A value may be ISO 8601 or cron text, a `datetime`, a
`date` (midnight) or a `timedelta` (elapsed time). Text that looks like an ISO 8601 value or a
cron expression but is not a valid one is refused, never reread as a variable name.

What each value means:

- `timeDate`: a moment. A date-time without an offset (`2036-11-14T11:12:22`) and a bare date
  (midnight) are read in the configured zone (`tz`, from BATON_TIMEZONE).
- `timeDuration`: the time to wait from when the timer is created.
- `timeCycle`: `R[n]/<duration>` fires n times (`R` alone: without end), the first one period
  after the timer is created; `R[n]/<start>/<duration>` and `R[n]/<start>/<end>` fire at the
  start and every period after it (repetitions already in the past are skipped, but count
  towards n); or a cron expression, which fires without end.

Time. Every instant this module returns is an aware datetime in UTC. Durations split the way
they are applied: years, months, weeks and days are *calendar* units that move the wall clock
in `tz` (computed in local time, then converted), hours, minutes and seconds are *elapsed* time.
So across a daylight-saving change `P1D` keeps the wall-clock time (09:00 stays 09:00, the day
is 23 or 25 hours long), while `PT24H` is exactly 24 hours (09:00 becomes 10:00 or 08:00);
`P1DT1H` is one calendar day, then one hour; `R/<start>/<end>` and a `timedelta` are elapsed time. Cron is
evaluated on the wall clock in `tz`. A local time that does not exist (the spring-forward gap)
moves forward by the length of the gap (02:30 becomes 03:30); a local time that happens twice
(autumn) means its first occurrence. Two consequences: a cron that fires every few minutes
pauses for the repeated hour in autumn (its wall-clock times there have already fired), and a
cycle without a start is computed from the previous due time, so a repetition that was moved
out of the spring gap, or clamped to a month's end (Jan 31 + P1M = Feb 28), carries the moved
time on. Write an elapsed-time cycle (`R/PT5M`) or give the cycle a start where that matters.

A cycle that repeats without end (`R/...`, cron) more often than `min_interval` is refused: it
would create tokens without bound. A bounded cycle (`R3/PT0.1S`) creates at most n tokens, like a
multi-instance activity, so only a zero-length period is refused there.

Cron. Five fields are classic cron (minute first, day of week 0-7 with 0 and 7 Sunday; as
croniter reads it: a restricted day of month *or* day of week). Six or seven fields are the
Quartz dialect Camunda models carry: seconds first, an optional year last, day of week 1 (SUN)
to 7 (SAT), and exactly one of day of month and day of week restricted (`?` or `*` in the
other). Quartz is translated to what croniter 7 reads (seconds first, days of week renumbered):

    Quartz                      supported   croniter form
    ?                           yes         *
    L   (day of month)          yes         L
    nW  (day of month, n<=28)   yes         nW (nearest weekday, not crossing the month)
    nW  (n = 29..31)            refused     croniter moves to the month's last day, Quartz skips
                                            months without day n
    LW  (last weekday)          refused     croniter has no last-weekday-of-month
    L-n (n days before last)    refused     croniter has no offset from the last day
    n#k (k-th weekday n)        yes         (n-1)#k
    nL  (last day-of-week n)    yes         L(n-1)
    L   (day of week alone)     yes         6 (Saturday)
    both days restricted        refused     Quartz refuses it too
    day of week 0               refused     0 is not a Quartz day (Spring and Zeebe count 0-7
                                            from Sunday: write names, MON-FRI, to be unambiguous)
    H (hashed values)           refused     not Quartz
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, Literal

import isodate
from croniter import CroniterBadDateError, CroniterError, croniter
from dateutil.relativedelta import relativedelta

from orchestrator.bpmn.expressions import read_expression
from orchestrator.bpmn.model import EventDefinition, Expression, ExpressionLanguage
from orchestrator.errors import BatonError
from orchestrator.scripting.sandbox import Sandbox

Kind = Literal["date", "duration", "cycle", "cron"]
Reading = Literal["literal", "juel", "python"]

TIME_DATE, TIME_DURATION, TIME_CYCLE = "timeDate", "timeDuration", "timeCycle"
DEFAULT_MIN_INTERVAL = timedelta(seconds=1)

# -- messages (reused by the tests) ---------------------------------------------------------------

NO_VALUE = "the timer has no timeDate, timeDuration or timeCycle"
SEVERAL_VALUES = "the timer has {fields}; BPMN allows only one of timeDate, timeDuration and timeCycle"
UNREADABLE = "{field} {text!r} cannot be read: it is not {expected}, a ${{...}} expression or a Python expression"
FEEL_REFUSED = "{field} {text!r}: FEEL timer expressions are not supported; write ISO 8601, cron, ${{...}} or Python"
JUEL_REFUSED = "{field} {text!r}: {reason}"
WRONG_FIELD = "{field} {text!r} is {found}; {advice}"
BAD_ISO = "{field} {text!r} is not a valid ISO 8601 {what}: {reason}"
NEGATIVE = "{field} {text!r} is negative; a timer cannot wait a negative time"
FRACTIONAL_MONTHS = "{field} {text!r}: years and months must be whole numbers"
CYCLE_SHAPE = ("{field} {text!r} is not a repeating interval Baton reads: write R[n]/<duration>, "
               "R[n]/<start>/<duration> or R[n]/<start>/<end>")
CYCLE_FROM_END = ("{field} {text!r}: a repeating interval counted back from its end (R[n]/<duration>/<end>) "
                  "is not supported; write R[n]/<start>/<duration>")
ZERO_REPETITIONS = "{field} {text!r} repeats zero times; write R1 or more, or R/ to repeat without end"
ZERO_PERIOD = "{field} {text!r} has a period of zero; a cycle must move time forward"
TOO_FREQUENT = ("{field} {text!r} repeats without end every {interval}, more often than the minimum "
                "interval of {minimum}; it would create tokens without bound")
CRON_INVALID = "{field} {text!r} is not a valid cron expression: {reason}"
CRON_UNSUPPORTED = "{field} {text!r}: {feature} is not supported: {why}"
QUARTZ_BOTH_DAYS = ("{field} {text!r}: Quartz restricts either the day of month or the day of week, not both; "
                    "write ? in one of them")
QUARTZ_DAY_OF_WEEK = ("{field} {text!r}: {value!r} is not a Quartz day of week: they run from 1 (SUN) to 7 (SAT) "
                      "(Spring and Zeebe count 0-7 from Sunday; names such as MON-FRI read the same everywhere)")
CRON_NEVER = "{field} {text!r} never fires"
NOTHING_LEFT = "{field} {text!r} has no repetition left after {now}"
EVALUATED_TO = "{field} {text!r} evaluated to {value!r}, which is not {expected}"
EVALUATED_INVALID = "{field} {text!r} evaluated to {value!r}: {reason}"
EVALUATION_FAILED = "{field} {text!r} could not be evaluated: {reason}"

_EXPECTED = {
    TIME_DATE: "an ISO 8601 date-time (such as 2026-01-01T09:00 or 2026-01-01T09:00Z)",
    TIME_DURATION: "an ISO 8601 duration (such as PT10M or P7D)",
    TIME_CYCLE: "an ISO 8601 repeating interval (such as R3/PT10M) or a cron expression",
}
_EXPECTED_VALUE = {
    TIME_DATE: "an ISO 8601 date-time, a datetime or a date",
    TIME_DURATION: "an ISO 8601 duration or a timedelta",
    TIME_CYCLE: "an ISO 8601 repeating interval or a cron expression (text)",
}

_ISO_CYCLE = re.compile(r"R\d*/")
_ISO_DURATION = re.compile(r"[+-]?P[0-9YMWDTHS.,]*$")
_ISO_DATE = re.compile(r"\d{4}-?(?:\d{2}|W\d)")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NAMES = "|".join(_MONTHS + _DAYS)
_CRON_FIELD = re.compile(rf"(?:[0-9*?,/#LWH-]|{_NAMES})+", re.IGNORECASE)
_SECONDS_PER_DAY = 86_400
_CRON_SEARCH_LIMIT = 100_000  # candidates examined for one due time (an every-second cron in the autumn hour: 3,600)
_CRON_DAY_SAMPLES = 400  # firing days sampled when the shortest cron gap spans days
_CRON_YEARS = 150  # how far croniter looks for a match: all of its years (1970-2099), not its default 50


class TimerError(BatonError):
    """A timer definition cannot be read, evaluated or scheduled; `element` names the event."""


class _Refused(ValueError):
    """Internal: why a value cannot be read; the public functions add the element id."""


# -- the data -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """An ISO 8601 duration, split the way it is applied: `months` (years too) and `days` (weeks
    too) move the wall clock in the configured zone; `exact` is elapsed time."""

    months: int = 0
    days: int = 0
    exact: timedelta = timedelta(0)

    @property
    def is_zero(self) -> bool:
        return not self.months and not self.days and not self.exact

    def shortest(self) -> timedelta:
        """A lower bound of its length: a month is at least 28 days, a calendar day 23 hours."""
        return timedelta(days=28 * self.months, hours=23 * self.days) + self.exact

    def longest(self) -> timedelta:
        """An upper bound of its length: a month is at most 31 days, a calendar day 25 hours."""
        return timedelta(days=31 * self.months, hours=25 * self.days) + self.exact

    def to_dict(self) -> dict[str, int]:
        return {"months": self.months, "days": self.days, "microseconds": _microseconds(self.exact)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Period:
        return cls(int(data["months"]), int(data["days"]), timedelta(microseconds=int(data["microseconds"])))


@dataclass(frozen=True)
class TimerSpec:
    """What a timer definition means, once read (and its expression evaluated).

    `text` is the value after evaluation, as text. `repetitions`: 1 for a date or duration, n for
    `Rn/...`, None for `R/...` and cron (no end). `date` is the moment of a date (UTC); `period`
    the duration of a duration or cycle; `start` the explicit start of a cycle (UTC), None when
    the cycle starts when the timer is created; `cron` the expression as croniter reads it
    (always seconds first); `element` the event it belongs to, for error messages.
    """

    kind: Kind
    reading: Reading
    text: str
    repetitions: int | None = 1
    date: datetime | None = None
    period: Period | None = None
    start: datetime | None = None
    cron: str | None = None
    element: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "timer_spec", "kind": self.kind, "reading": self.reading, "text": self.text,
            "repetitions": self.repetitions,
            "date": self.date.isoformat() if self.date else None,
            "period": self.period.to_dict() if self.period else None,
            "start": self.start.isoformat() if self.start else None,
            "cron": self.cron, "element": self.element,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimerSpec:
        """Rebuild from `to_dict`; other keys (the engine keeps `due` and `fired` alongside) are ignored."""
        return cls(
            kind=data["kind"], reading=data["reading"], text=data["text"], repetitions=data["repetitions"],
            date=datetime.fromisoformat(data["date"]) if data.get("date") else None,
            period=Period.from_dict(data["period"]) if data.get("period") else None,
            start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
            cron=data.get("cron"), element=data.get("element"),
        )


def spec_to_dict(spec: TimerSpec) -> dict[str, Any]:
    return spec.to_dict()


def spec_from_dict(data: Mapping[str, Any]) -> TimerSpec:
    return TimerSpec.from_dict(data)


@dataclass(frozen=True)
class TimerCheck:
    """What `validate` learns from a timer without running anything: the reading that will be
    used and, for literals (and constant Python), the kind; `error` says why it cannot be read."""

    element: str
    reading: Reading | None
    kind: Kind | None
    error: str | None = None


# -- reading -------------------------------------------------------------------------------------

def read_timer(
    definition: EventDefinition, *, element_id: str, variables: Mapping[str, Any] | None = None,
    evaluate: Callable[[Expression], Any] | None = None, tz: tzinfo,
    min_interval: timedelta = DEFAULT_MIN_INTERVAL,
) -> TimerSpec:
    """Read a timer definition when the timer is created, evaluating its expression if it has one.

    Without `evaluate`, expressions run in a default sandbox against `variables`.
    """
    try:
        field, text = _value_of(definition)
        spec = _parse_text(field, text, tz=tz, min_interval=min_interval, reading="literal")
        if spec is None:
            expression, reading = _as_expression(field, text)
            value = _evaluate(field, text, expression, evaluate, variables)
            spec = _from_value(field, text, value, reading, tz=tz, min_interval=min_interval)
    except _Refused as exc:
        raise TimerError(str(exc), element=element_id) from None
    return replace(spec, element=element_id)


def check_timer(
    definition: EventDefinition, *, element_id: str, tz: tzinfo, min_interval: timedelta = DEFAULT_MIN_INTERVAL,
) -> TimerCheck:
    """Read a timer statically, for `validate`: literals (and constant Python such as `"PT1S"`)
    are read in full; other expressions only have to be readable."""
    reading: Reading | None = None
    try:
        field, text = _value_of(definition)
        spec = _parse_text(field, text, tz=tz, min_interval=min_interval, reading="literal")
        if spec is not None:
            return TimerCheck(element_id, "literal", spec.kind)
        expression, reading = _as_expression(field, text)
        if reading == "python":
            try:
                constant = ast.literal_eval(expression.python or "")
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return TimerCheck(element_id, reading, None)
            spec = _from_value(field, text, constant, reading, tz=tz, min_interval=min_interval)
            return TimerCheck(element_id, reading, spec.kind)
        return TimerCheck(element_id, reading, None)
    except _Refused as exc:
        return TimerCheck(element_id, reading, None, str(exc))


def check_literal(
    definition: EventDefinition, *, element_id: str, tz: tzinfo, min_interval: timedelta = DEFAULT_MIN_INTERVAL,
) -> str | None:
    """Why `validate` should refuse this timer, or None (expressions that need variables are fine
    statically). `check_timer` also says which reading will be used."""
    return check_timer(definition, element_id=element_id, tz=tz, min_interval=min_interval).error


def _value_of(definition: EventDefinition) -> tuple[str, str]:
    present = [(field, expression) for field, expression in (
        (TIME_DATE, definition.time_date), (TIME_DURATION, definition.time_duration),
        (TIME_CYCLE, definition.time_cycle),
    ) if expression is not None and expression.source.strip()]
    if not present:
        raise _Refused(NO_VALUE)
    if len(present) > 1:
        raise _Refused(SEVERAL_VALUES.format(fields=" and ".join(field for field, _ in present)))
    field, expression = present[0]
    return field, expression.source.strip()


def _as_expression(field: str, text: str) -> tuple[Expression, Reading]:
    """The `${...}` or Python reading of a value that is not a literal."""
    if text.startswith(("${", "#{")):
        expression = read_expression(text, "juel")
        assert expression is not None
        if expression.python is None:
            raise _Refused(JUEL_REFUSED.format(field=field, text=text, reason=expression.error))
        return expression, "juel"
    if text.startswith("="):
        raise _Refused(FEEL_REFUSED.format(field=field, text=text))
    expression = read_expression(text, "python")
    assert expression is not None
    if expression.language is ExpressionLanguage.JUEL and expression.error:  # "P${days}D": text around ${...}
        raise _Refused(JUEL_REFUSED.format(field=field, text=text, reason=expression.error))
    if expression.python is None or expression.language is not ExpressionLanguage.PYTHON:
        raise _Refused(UNREADABLE.format(field=field, text=text, expected=_EXPECTED[field]))
    return expression, "python"


@lru_cache(maxsize=1)
def _default_sandbox() -> Sandbox:
    return Sandbox()


def _evaluate(field: str, text: str, expression: Expression, evaluate: Callable[[Expression], Any] | None,
              variables: Mapping[str, Any] | None) -> Any:
    try:
        if evaluate is not None:
            return evaluate(expression)
        assert expression.python is not None
        sandbox = _default_sandbox()
        return sandbox.evaluate(sandbox.compile_expression(expression.python), variables or {})
    except BatonError as exc:
        raise _Refused(EVALUATION_FAILED.format(field=field, text=text, reason=exc.message)) from None


def _from_value(field: str, text: str, value: Any, reading: Reading, *, tz: tzinfo,
                min_interval: timedelta) -> TimerSpec:
    """A TimerSpec from what an expression evaluated to."""
    if isinstance(value, str):
        try:
            spec = _parse_text(field, value.strip(), tz=tz, min_interval=min_interval, reading=reading)
        except _Refused as exc:
            raise _Refused(EVALUATED_INVALID.format(field=field, text=text, value=value, reason=exc)) from None
        if spec is not None:
            return spec
    elif field == TIME_DATE and isinstance(value, datetime):
        return TimerSpec("date", reading, value.isoformat(), date=_instant(value, tz))
    elif field == TIME_DATE and isinstance(value, date):
        return TimerSpec("date", reading, value.isoformat(), date=_instant(datetime.combine(value, time()), tz))
    elif field == TIME_DURATION and isinstance(value, timedelta):
        iso = _iso_seconds(value)
        if value < timedelta(0):
            raise _Refused(NEGATIVE.format(field=field, text=iso))
        return TimerSpec("duration", reading, iso, period=Period(exact=value))
    raise _Refused(EVALUATED_TO.format(field=field, text=text, value=value, expected=_EXPECTED_VALUE[field]))


def _parse_text(field: str, text: str, *, tz: tzinfo, min_interval: timedelta, reading: Reading) -> TimerSpec | None:
    """A TimerSpec when `text` is an ISO 8601 value or a cron expression, None when it is neither
    (then it may be an expression); refused when it looks like one but is not valid."""
    shape = _shape(text)
    if shape is None:
        return None
    if field == TIME_DATE:
        if shape != "date":
            raise _Refused(WRONG_FIELD.format(field=field, text=text, **_MISPLACED[shape]))
        return TimerSpec("date", reading, text, date=_parse_date(field, text, tz))
    if field == TIME_DURATION:
        if shape != "duration":
            raise _Refused(WRONG_FIELD.format(field=field, text=text, **_MISPLACED[shape]))
        return TimerSpec("duration", reading, text, period=_parse_duration(field, text))
    if shape == "cycle":
        return _parse_cycle(field, text, tz=tz, min_interval=min_interval, reading=reading)
    if shape == "cron":
        return _parse_cron(field, text, min_interval=min_interval, reading=reading)
    if shape == "duration":
        raise _Refused(WRONG_FIELD.format(
            field=field, text=text, found="a single duration",
            advice=f"a cycle repeats: write R/{text} to repeat without end or Rn/{text} to repeat n times"))
    raise _Refused(WRONG_FIELD.format(field=field, text=text, **_MISPLACED[shape]))


_MISPLACED = {
    "date": {"found": "a date", "advice": "write it in a timeDate"},
    "duration": {"found": "a duration", "advice": "write it in a timeDuration"},
    "cycle": {"found": "a repeating interval", "advice": "write it in a timeCycle"},
    "cron": {"found": "a cron expression", "advice": "write it in a timeCycle"},
}


def _shape(text: str) -> str | None:
    if _ISO_CYCLE.match(text):
        return "cycle"
    if _ISO_DURATION.match(text) and any(c.isdigit() for c in text):
        return "duration"
    if _ISO_DATE.match(text):
        return "date"
    fields = text.split()
    if 5 <= len(fields) <= 7 and all(_CRON_FIELD.fullmatch(f) for f in fields):
        return "cron"
    return None


# -- ISO 8601 ------------------------------------------------------------------------------------

def _parse_date(field: str, text: str, tz: tzinfo) -> datetime:
    try:
        value = isodate.parse_datetime(text) if "T" in text else datetime.combine(isodate.parse_date(text), time())
    except (isodate.ISO8601Error, ValueError) as exc:
        raise _Refused(BAD_ISO.format(field=field, text=text, what="date-time", reason=exc)) from None
    return _instant(value, tz)


def _parse_duration(field: str, text: str) -> Period:
    """isodate reads the duration; it is read in two halves because isodate folds days into hours
    (P1D and PT24H come back equal), and here a day is a calendar day while 24 hours are elapsed."""
    date_part, designator, time_part = text.partition("T")
    if designator and not time_part:
        raise _Refused(BAD_ISO.format(field=field, text=text, what="duration",
                                      reason="T must be followed by hours, minutes or seconds"))
    months, days, exact = 0, 0, timedelta(0)
    try:
        if date_part.lstrip("+-") != "P":
            parsed = isodate.parse_duration(date_part, as_timedelta_if_possible=False)
            fractional_months = bool(parsed.years % 1 or parsed.months % 1)
            months = int(parsed.years) * 12 + int(parsed.months)
            days = parsed.tdelta.days
            exact = parsed.tdelta - timedelta(days=days)
        else:
            fractional_months = False
        if time_part:
            sign = "-" if date_part.startswith("-") else ""
            exact += isodate.parse_duration(f"{sign}PT{time_part}")
    except (isodate.ISO8601Error, ValueError) as exc:
        raise _Refused(BAD_ISO.format(field=field, text=text, what="duration", reason=exc)) from None
    if fractional_months:
        raise _Refused(FRACTIONAL_MONTHS.format(field=field, text=text))
    if months < 0 or days < 0 or exact < timedelta(0):
        raise _Refused(NEGATIVE.format(field=field, text=text))
    return Period(months, days, exact)


def _parse_cycle(field: str, text: str, *, tz: tzinfo, min_interval: timedelta, reading: Reading) -> TimerSpec:
    count, _, rest = text.partition("/")
    repetitions = int(count[1:]) if count[1:] else None
    if repetitions == 0:
        raise _Refused(ZERO_REPETITIONS.format(field=field, text=text))
    parts = rest.split("/")
    start = None
    if len(parts) == 1 and _shape(parts[0]) == "duration":
        period = _parse_duration(field, parts[0])
    elif len(parts) == 2 and _shape(parts[0]) == "date" and _shape(parts[1]) == "duration":
        start, period = _parse_date(field, parts[0], tz), _parse_duration(field, parts[1])
    elif len(parts) == 2 and _shape(parts[0]) == "date" and _shape(parts[1]) == "date":
        start, end = _parse_date(field, parts[0], tz), _parse_date(field, parts[1], tz)
        period = Period(exact=end - start)
        if end < start:
            raise _Refused(NEGATIVE.format(field=field, text=text))
    elif len(parts) == 2 and _shape(parts[0]) == "duration" and _shape(parts[1]) == "date":
        raise _Refused(CYCLE_FROM_END.format(field=field, text=text))
    else:
        raise _Refused(CYCLE_SHAPE.format(field=field, text=text))
    if period.is_zero:
        raise _Refused(ZERO_PERIOD.format(field=field, text=text))
    if repetitions is None and period.shortest() < min_interval:
        raise _Refused(TOO_FREQUENT.format(field=field, text=text, interval=_iso_seconds(period.shortest()),
                                           minimum=_iso_seconds(min_interval)))
    return TimerSpec("cycle", reading, text, repetitions=repetitions, period=period, start=start)


# -- cron ----------------------------------------------------------------------------------------

def _parse_cron(field: str, text: str, *, min_interval: timedelta, reading: Reading) -> TimerSpec:
    fields = text.split()
    if any("H" in _without_names(f).upper() for f in fields):
        raise _Refused(CRON_UNSUPPORTED.format(field=field, text=text, feature="H (hashed values)",
                                               why="it is a Jenkins extension, neither Quartz nor cron"))
    expression = "0 " + " ".join(fields) if len(fields) == 5 else _quartz_to_croniter(field, text, fields)
    try:
        croniter.expand(expression, second_at_beginning=True)
        croniter(expression, datetime(2000, 1, 1), second_at_beginning=True,
                 max_years_between_matches=_CRON_YEARS).get_next(datetime)
    except CroniterBadDateError:
        raise _Refused(CRON_NEVER.format(field=field, text=text)) from None
    except (CroniterError, ValueError, TypeError, KeyError, IndexError) as exc:
        reason = re.sub(r"^\[.*?\]\s*", "", str(exc).strip().splitlines()[-1]) or type(exc).__name__
        raise _Refused(CRON_INVALID.format(field=field, text=text, reason=reason)) from None
    gap = _cron_shortest_gap(expression, min_interval)
    if gap is not None and gap < min_interval:
        raise _Refused(TOO_FREQUENT.format(field=field, text=text, interval=_iso_seconds(gap),
                                           minimum=_iso_seconds(min_interval)))
    return TimerSpec("cron", reading, text, repetitions=None, cron=expression)


def _without_names(value: str) -> str:
    return re.sub(_NAMES, "", value, flags=re.IGNORECASE)


def _quartz_to_croniter(field: str, text: str, fields: list[str]) -> str:
    seconds, minutes, hours, day_of_month, month, day_of_week, *year = fields
    for value in (seconds, minutes, hours, month, *year):
        if re.search(r"[?LW#]", _without_names(value), re.IGNORECASE):
            reason = f"'?', 'L', 'W' and '#' belong in the day fields, not in {value!r}"
            raise _Refused(CRON_INVALID.format(field=field, text=text, reason=reason))
    dom = _quartz_day_of_month(field, text, day_of_month)
    dow = _quartz_day_of_week(field, text, day_of_week)
    if day_of_month not in ("?", "*") and day_of_week not in ("?", "*"):
        raise _Refused(QUARTZ_BOTH_DAYS.format(field=field, text=text))
    return " ".join([seconds, minutes, hours, dom, month, dow, *year])


def _quartz_day_of_month(field: str, text: str, value: str) -> str:
    if value == "?":
        return "*"
    items = []
    for item in value.upper().split(","):
        if item == "LW":
            raise _Refused(CRON_UNSUPPORTED.format(field=field, text=text, why="croniter cannot express it",
                                                   feature="Quartz LW (the last weekday of the month)"))
        if re.fullmatch(r"L-\d+", item):
            raise _Refused(CRON_UNSUPPORTED.format(field=field, text=text,
                                                     feature=f"Quartz {item} (days before the last day of the month)",
                                                     why="croniter cannot express it"))
        weekday = re.fullmatch(r"(\d+)W", item)
        if weekday and int(weekday.group(1)) > 28:
            raise _Refused(CRON_UNSUPPORTED.format(
                field=field, text=text, feature=f"Quartz {item} (the weekday nearest day {weekday.group(1)})",
                why="Quartz skips months without that day while croniter would use the month's last day; "
                    "write 28W, or L for the last day"))
        items.append(item)
    return ",".join(items)


def _quartz_day_of_week(field: str, text: str, value: str) -> str:
    if value == "?":
        return "*"

    def day(token: str) -> str:
        if token.isdigit():
            if not 1 <= int(token) <= 7:
                raise _Refused(QUARTZ_DAY_OF_WEEK.format(field=field, text=text, value=token))
            return str(int(token) - 1)
        return token

    items = []
    for item in value.upper().split(","):
        if item == "L":
            items.append("6")
            continue
        last = re.fullmatch(r"(\d+|SUN|MON|TUE|WED|THU|FRI|SAT)L", item)
        if last:  # croniter writes "the last Friday" as L5
            token = last.group(1)
            items.append(f"L{day(token) if token.isdigit() else _DAYS.index(token)}")
            continue
        nth = re.fullmatch(r"(\d+|[A-Z]{3})#(\d+)", item)
        if nth:
            items.append(f"{day(nth.group(1))}#{nth.group(2)}")
            continue
        plain = re.fullmatch(r"(\*|\d+|[A-Z]{3})(?:-(\d+|[A-Z]{3}))?(?:/(\d+))?", item)
        if not plain:
            raise _Refused(CRON_INVALID.format(field=field, text=text,
                                               reason=f"cannot read the day of week {item!r}"))
        first, second, step = plain.groups()
        translated = first if first == "*" else day(first)
        if second:
            translated += f"-{day(second)}"
        if step:
            translated += f"/{step}"
        items.append(translated)
    return ",".join(items)


def _cron_shortest_gap(expression: str, min_interval: timedelta) -> timedelta | None:
    """A time between two firings on the wall clock that decides against `min_interval`: one
    shorter than it when there is one (not always the shortest), else the shortest; None when it
    fires at most once. From the times of day it fires at and, only when the step from one firing
    day to the next decides, the days it fires on (sampled)."""
    expanded, _ = croniter.expand(expression, second_at_beginning=True)

    def values(index: int, low: int, high: int) -> list[int]:
        return list(range(low, high + 1)) if expanded[index] == ["*"] else [int(v) for v in expanded[index]]

    hours, minutes, seconds = values(1, 0, 23), values(0, 0, 59), values(5, 0, 59)
    # The times of day are hours x minutes x seconds, so the steps between them are: to the next
    # second in the minute, from the minute's last second to the next minute's first, and from the
    # hour's last firing to the next hour's first.
    second_step, minute_step, hour_step = _smallest_step(seconds), _smallest_step(minutes), _smallest_step(hours)
    first, last = (hours[0] * 3600 + minutes[0] * 60 + seconds[0], hours[-1] * 3600 + minutes[-1] * 60 + seconds[-1])
    steps = [
        second_step,
        None if minute_step is None else minute_step * 60 - (seconds[-1] - seconds[0]),
        None if hour_step is None else hour_step * 3600 - (last - hours[-1] * 3600) + (first - hours[0] * 3600),
    ]
    within = min((step for step in steps if step is not None), default=None)
    overnight = _SECONDS_PER_DAY - last + first  # last firing of a day to the first of the next day
    if within is not None and timedelta(seconds=within) < min_interval:
        return timedelta(seconds=within)  # too short whatever the days
    if timedelta(seconds=overnight) >= min_interval:
        return timedelta(seconds=min(overnight, within or overnight))  # long enough whatever the days
    # Only days in a row make the overnight step that short: find the fewest days between firing days.
    day_fields = " ".join(["0", "0", "0", *expression.split()[3:]])
    it = croniter(day_fields, datetime(2000, 1, 1), second_at_beginning=True, ret_type=datetime,
                  max_years_between_matches=_CRON_YEARS)
    previous, fewest = None, None
    for _ in range(_CRON_DAY_SAMPLES):
        try:
            current = it.get_next(datetime)
        except CroniterBadDateError:
            break
        if previous is not None:
            fewest = min(fewest or (current - previous).days, (current - previous).days)
            if fewest == 1:
                break
        previous = current
    steps = [x for x in (within, None if fewest is None else overnight + (fewest - 1) * _SECONDS_PER_DAY)
             if x is not None]
    return timedelta(seconds=min(steps)) if steps else None


def _smallest_step(values: list[int]) -> int | None:
    return min((b - a for a, b in zip(values, values[1:])), default=None)


# -- due times -----------------------------------------------------------------------------------

def first_due(spec: TimerSpec, *, now: datetime, tz: tzinfo) -> datetime:
    """When a timer created at `now` fires first (aware, UTC). A date in the past is returned
    as it is (it is overdue: fire at once)."""
    now = _utc(now)
    if spec.kind == "date":
        assert spec.date is not None
        return spec.date
    if spec.kind == "cron":
        due = _cron_after(spec, now, tz)
        if due is None:
            raise TimerError(NOTHING_LEFT.format(field=TIME_CYCLE, text=spec.text, now=now.isoformat()),
                             element=spec.element)
        return due
    assert spec.period is not None
    if spec.start is None:
        return _add(now, spec.period, 1, tz)
    index = _occurrence_index(spec, now, inclusive=True, tz=tz)
    if spec.repetitions is not None and index >= spec.repetitions:
        raise TimerError(NOTHING_LEFT.format(field=TIME_CYCLE, text=spec.text, now=now.isoformat()),
                         element=spec.element)
    return _add(spec.start, spec.period, index, tz)


def next_due(spec: TimerSpec, *, previous_due: datetime, fired: int, tz: tzinfo) -> datetime | None:
    """The repetition after the one due at `previous_due`, once `fired` have fired; None when
    there are no more (a date or duration fires once)."""
    previous_due = _utc(previous_due)
    if spec.kind in ("date", "duration"):
        return None
    if spec.repetitions is not None and fired >= spec.repetitions:
        return None
    if spec.kind == "cron":
        return _cron_after(spec, previous_due, tz)
    assert spec.period is not None
    if spec.start is None:
        return _add(previous_due, spec.period, 1, tz)
    index = _occurrence_index(spec, previous_due, inclusive=False, tz=tz)
    if spec.repetitions is not None and index >= spec.repetitions:
        return None
    return _add(spec.start, spec.period, index, tz)


def _occurrence_index(spec: TimerSpec, moment: datetime, *, inclusive: bool, tz: tzinfo) -> int:
    """The first k with start + k periods at (inclusive) or after `moment`, by bisection: the
    occurrences grow with k, and the period's bounds bracket k."""
    assert spec.start is not None and spec.period is not None
    start, period = spec.start, spec.period

    def reached(k: int) -> bool:
        due = _add(start, period, k, tz)
        return due >= moment if inclusive else due > moment

    if reached(0):
        return 0
    span = moment - start
    low = max(0, int(span / period.longest()) - 1)
    high = int(span / period.shortest()) + 2
    if reached(low):
        low = 0
    while not reached(high):
        high *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if reached(middle):
            high = middle
        else:
            low = middle
    return high


def _add(instant: datetime, period: Period, times: int, tz: tzinfo) -> datetime:
    """`instant` plus `times` periods: calendar units on the local wall clock, then elapsed time."""
    if period.months or period.days:
        local = instant.astimezone(tz).replace(tzinfo=None)
        local += relativedelta(months=period.months * times, days=period.days * times)
        instant = _from_local(local, tz)
    return instant + period.exact * times


def _cron_after(spec: TimerSpec, moment: datetime, tz: tzinfo) -> datetime | None:
    """The first firing after `moment`: croniter walks the local wall clock, each candidate is
    placed in time by the zone rules, and candidates not after `moment` (a repeated autumn hour,
    a spring gap moved forward onto a later time) are passed over."""
    assert spec.cron is not None
    local = moment.astimezone(tz).replace(tzinfo=None)
    it = croniter(spec.cron, local, second_at_beginning=True, ret_type=datetime, max_years_between_matches=_CRON_YEARS)
    for _ in range(_CRON_SEARCH_LIMIT):
        try:
            candidate = _from_local(it.get_next(datetime), tz)
        except CroniterBadDateError:
            return None
        if candidate > moment:
            return candidate
    raise TimerError(CRON_NEVER.format(field=TIME_CYCLE, text=spec.text), element=spec.element)


# -- time helpers --------------------------------------------------------------------------------

def _from_local(local: datetime, tz: tzinfo) -> datetime:
    """A wall-clock time in `tz` as an instant (UTC). fold=0 picks the first of two occurrences
    and, for a time in a gap, the offset before it: the time moves forward by the gap's length."""
    return local.replace(tzinfo=tz, fold=0).astimezone(timezone.utc)


def _instant(value: datetime, tz: tzinfo) -> datetime:
    """A datetime as an instant (UTC); without an offset it is a wall-clock time in `tz`."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return _from_local(value.replace(tzinfo=None), tz)
    return value.astimezone(timezone.utc)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"an aware datetime is needed, not {value!r}")
    return value.astimezone(timezone.utc)


def _microseconds(value: timedelta) -> int:
    return (value.days * _SECONDS_PER_DAY + value.seconds) * 1_000_000 + value.microseconds


def _iso_seconds(value: timedelta) -> str:
    """A timedelta as an ISO 8601 duration of elapsed seconds (a timedelta has no calendar days)."""
    micro = _microseconds(value)
    sign, micro = ("-", -micro) if micro < 0 else ("", micro)
    seconds, fraction = divmod(micro, 1_000_000)
    return f"{sign}PT{seconds}{f'.{fraction:06d}'.rstrip('0') if fraction else ''}S"

