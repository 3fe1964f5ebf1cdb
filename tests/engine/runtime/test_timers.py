"""Timers: ISO 8601 dates, durations and repeating intervals, classic and Quartz cron, the three
readings (literal, ${...}, Python), daylight saving in Europe/Berlin, the minimum cycle interval,
and every timer in tests/corpus."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orchestrator.bpmn import namespaces as ns
from orchestrator.bpmn.model import EventDefinition, EventType, Expression, ExpressionLanguage
from orchestrator.bpmn.parser import parse_xml
from orchestrator.runtime.timers import (
    BAD_ISO, CRON_INVALID, CRON_NEVER, CRON_UNSUPPORTED, CYCLE_FROM_END, CYCLE_SHAPE, EVALUATED_INVALID,
    EVALUATED_TO, EVALUATION_FAILED, FEEL_REFUSED, FRACTIONAL_MONTHS, JUEL_REFUSED, NEGATIVE, NO_VALUE,
    NOTHING_LEFT, QUARTZ_BOTH_DAYS, QUARTZ_DAY_OF_WEEK, SEVERAL_VALUES, TOO_FREQUENT, UNREADABLE, WRONG_FIELD,
    ZERO_PERIOD, ZERO_REPETITIONS, Period, TimerError, TimerSpec, check_literal, check_timer, first_due,
    next_due, read_timer, spec_from_dict, spec_to_dict,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC = timezone.utc
ELEMENT = "Timer_1"
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
FIELDS = {"timeDate": "time_date", "timeDuration": "time_duration", "timeCycle": "time_cycle"}
DURATION_EXPECTED = "an ISO 8601 duration (such as PT10M or P7D)"
DATE_EXPECTED_VALUE = "an ISO 8601 date-time, a datetime or a date"
DURATION_EXPECTED_VALUE = "an ISO 8601 duration or a timedelta"


def timer(field: str, text: str) -> EventDefinition:
    """A timer event definition as the parser builds it: the value as written, language OTHER."""
    return EventDefinition(EventType.TIMER, **{FIELDS[field]: Expression(text, ExpressionLanguage.OTHER, None)})


def read(field: str, text: str, **options: Any) -> TimerSpec:
    options.setdefault("tz", BERLIN)
    return read_timer(timer(field, text), element_id=ELEMENT, **options)


def refused(field: str, text: str, **options: Any) -> str:
    with pytest.raises(TimerError) as caught:
        read(field, text, **options)
    assert caught.value.element == ELEMENT
    assert f"element {ELEMENT!r}" in str(caught.value)
    return caught.value.message


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=BERLIN, fold=fold)


def schedule(spec: TimerSpec, *, now: datetime, limit: int = 10) -> list[datetime]:
    """The due times a timer created at `now` goes through, firing each one (at most `limit`)."""
    dues = [first_due(spec, now=now, tz=BERLIN)]
    while len(dues) < limit:
        following = next_due(spec, previous_due=dues[-1], fired=len(dues), tz=BERLIN)
        if following is None:
            break
        assert following > dues[-1]
        dues.append(following)
    return dues


def local(dues: list[datetime]) -> list[str]:
    return [due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S%z") for due in dues]


# -- durations ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, period", [
    ("PT10M", Period(exact=timedelta(minutes=10))),
    ("PT0S", Period()),
    ("PT1H30M", Period(exact=timedelta(hours=1, minutes=30))),
    ("PT0.25S", Period(exact=timedelta(milliseconds=250))),
    ("PT24H", Period(exact=timedelta(hours=24))),
    ("P1D", Period(days=1)),
    ("P7D", Period(days=7)),
    ("P1W", Period(days=7)),
    ("P1DT12H", Period(days=1, exact=timedelta(hours=12))),
    ("P1.5D", Period(days=1, exact=timedelta(hours=12))),
    ("P1Y2M", Period(months=14)),
])
def test_durations_keep_calendar_days_apart_from_elapsed_hours(text: str, period: Period) -> None:
    spec = read("timeDuration", text)
    assert (spec.kind, spec.reading, spec.text, spec.repetitions) == ("duration", "literal", text, 1)
    assert spec.period == period


def test_a_duration_is_due_that_long_after_the_timer_is_created_and_fires_once() -> None:
    spec = read("timeDuration", "PT10M")
    due = first_due(spec, now=NOW, tz=BERLIN)
    assert due == NOW + timedelta(minutes=10) and due.tzinfo is UTC
    assert next_due(spec, previous_due=due, fired=1, tz=BERLIN) is None


@pytest.mark.parametrize("text, message", [
    ("P1DT", BAD_ISO.format(field="timeDuration", text="P1DT", what="duration",
                            reason="T must be followed by hours, minutes or seconds")),
    ("-PT1H", NEGATIVE.format(field="timeDuration", text="-PT1H")),
    ("-P1D", NEGATIVE.format(field="timeDuration", text="-P1D")),
    ("P1.5M", FRACTIONAL_MONTHS.format(field="timeDuration", text="P1.5M")),
    ("1w", UNREADABLE.format(field="timeDuration", text="1w", expected=DURATION_EXPECTED)),
    ("2026-01-01T09:00", WRONG_FIELD.format(field="timeDuration", text="2026-01-01T09:00", found="a date",
                                            advice="write it in a timeDate")),
    ("R3/PT10M", WRONG_FIELD.format(field="timeDuration", text="R3/PT10M", found="a repeating interval",
                                    advice="write it in a timeCycle")),
])
def test_bad_durations_are_refused_with_the_reason(text: str, message: str) -> None:
    assert refused("timeDuration", text) == message


def test_text_that_looks_like_a_duration_is_never_read_as_a_variable() -> None:
    message = refused("timeDuration", "PT10MM")
    assert message.startswith("timeDuration 'PT10MM' is not a valid ISO 8601 duration: ")


# -- dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, instant", [
    ("2026-01-01T09:00:00Z", utc(2026, 1, 1, 9)),
    ("2026-01-01T09:00+03:00", utc(2026, 1, 1, 6)),
    ("2026-01-01T09:00", utc(2026, 1, 1, 8)),  # no zone: Berlin winter time
    ("2026-07-01T09:00", utc(2026, 7, 1, 7)),  # no zone: Berlin summer time
    ("2036-11-14T11:12:22", utc(2036, 11, 14, 10, 12, 22)),
    ("2026-07-01", utc(2026, 6, 30, 22)),  # a date: local midnight
    ("2026-03-29T02:30", utc(2026, 3, 29, 1, 30)),  # in the spring gap: moves forward to 03:30 CEST
    ("2026-10-25T02:30", utc(2026, 10, 25, 0, 30)),  # twice in autumn: the first, 02:30 CEST
])
def test_dates_with_and_without_a_zone(text: str, instant: datetime) -> None:
    spec = read("timeDate", text)
    assert (spec.kind, spec.reading, spec.repetitions) == ("date", "literal", 1)
    assert first_due(spec, now=NOW, tz=BERLIN) == instant
    assert next_due(spec, previous_due=instant, fired=1, tz=BERLIN) is None


def test_a_date_without_a_zone_is_read_in_the_configured_zone() -> None:
    assert read("timeDate", "2026-01-01T09:00", tz=UTC).date == utc(2026, 1, 1, 9)
    assert read("timeDate", "2026-01-01T09:00", tz=ZoneInfo("America/New_York")).date == utc(2026, 1, 1, 14)


def test_a_date_in_the_past_is_due_at_once() -> None:
    assert first_due(read("timeDate", "2020-01-01T00:00Z"), now=NOW, tz=BERLIN) == utc(2020, 1, 1)


@pytest.mark.parametrize("text, message", [
    ("PT10M", WRONG_FIELD.format(field="timeDate", text="PT10M", found="a duration",
                                 advice="write it in a timeDuration")),
    ("2026-13-01T09:00", "timeDate '2026-13-01T09:00' is not a valid ISO 8601 date-time: month must be in 1..12"),
])
def test_bad_dates_are_refused(text: str, message: str) -> None:
    assert refused("timeDate", text) == message


# -- ISO 8601 cycles ------------------------------------------------------------------------------

def test_r3_pt10m_fires_three_times_the_first_one_period_after_creation() -> None:
    spec = read("timeCycle", "R3/PT10M")
    assert (spec.kind, spec.repetitions, spec.start) == ("cycle", 3, None)
    assert schedule(spec, now=NOW) == [NOW + timedelta(minutes=10 * k) for k in (1, 2, 3)]


def test_r_p1d_repeats_without_end() -> None:
    spec = read("timeCycle", "R/P1D")
    assert spec.repetitions is None
    dues = schedule(spec, now=NOW, limit=100)  # 13:00 in Berlin, in winter and in summer time
    assert len(dues) == 100 and {due.astimezone(BERLIN).strftime("%H:%M") for due in dues} == {"13:00"}
    assert dues[-1].astimezone(BERLIN).date() == date(2026, 4, 20)


def test_r6_p1d_fires_up_to_six_times() -> None:
    spec = read("timeCycle", "R6/P1D")
    assert local(schedule(spec, now=utc(2026, 5, 4, 7))) == [f"2026-05-{day:02d} 09:00:00+0200" for day in range(5, 11)]


def test_a_cycle_with_a_start_fires_at_the_start_and_every_period_after() -> None:
    spec = read("timeCycle", "R4/2026-01-01T09:00/P1W")
    assert (spec.repetitions, spec.start) == (4, utc(2026, 1, 1, 8))
    assert local(schedule(spec, now=utc(2025, 12, 1))) == [
        "2026-01-01 09:00:00+0100", "2026-01-08 09:00:00+0100", "2026-01-15 09:00:00+0100", "2026-01-22 09:00:00+0100"]


def test_repetitions_of_a_cycle_with_a_start_that_are_past_are_skipped_and_counted() -> None:
    spec = read("timeCycle", "R4/2026-01-01T09:00/P1W")
    assert local(schedule(spec, now=utc(2026, 1, 10))) == ["2026-01-15 09:00:00+0100", "2026-01-22 09:00:00+0100"]
    assert first_due(spec, now=utc(2026, 1, 8, 8), tz=BERLIN) == utc(2026, 1, 8, 8)  # due right now: fires now


def test_a_cycle_whose_repetitions_are_all_past_cannot_be_scheduled() -> None:
    spec = read("timeCycle", "R4/2026-01-01T09:00/P1W")
    with pytest.raises(TimerError) as caught:
        first_due(spec, now=utc(2027, 1, 1), tz=BERLIN)
    assert caught.value.message == NOTHING_LEFT.format(field="timeCycle", text="R4/2026-01-01T09:00/P1W",
                                                       now="2027-01-01T00:00:00+00:00")
    assert caught.value.element == ELEMENT


def test_a_cycle_with_a_start_far_in_the_past_finds_its_next_repetition_quickly() -> None:
    spec = read("timeCycle", "R/2000-01-01T00:00Z/PT1S")
    now = utc(2026, 1, 10, 12, 0, 0) + timedelta(microseconds=1)
    assert first_due(spec, now=now, tz=BERLIN) == utc(2026, 1, 10, 12, 0, 1)


def test_a_monthly_cycle_with_a_start_keeps_the_day_it_started_on() -> None:
    spec = read("timeCycle", "R/2026-01-31T09:00/P1M")
    assert local(schedule(spec, now=utc(2026, 1, 1), limit=4)) == [
        "2026-01-31 09:00:00+0100", "2026-02-28 09:00:00+0100", "2026-03-31 09:00:00+0200", "2026-04-30 09:00:00+0200"]


def test_a_cycle_from_start_to_end_repeats_that_interval() -> None:
    spec = read("timeCycle", "R2/2026-01-01T00:00Z/2026-01-01T06:00Z")
    assert spec.period == Period(exact=timedelta(hours=6))
    assert schedule(spec, now=utc(2025, 1, 1)) == [utc(2026, 1, 1), utc(2026, 1, 1, 6)]


@pytest.mark.parametrize("text, message", [
    ("R0/PT1H", ZERO_REPETITIONS.format(field="timeCycle", text="R0/PT1H")),
    ("R3/PT0S", ZERO_PERIOD.format(field="timeCycle", text="R3/PT0S")),
    ("R/PT0S", ZERO_PERIOD.format(field="timeCycle", text="R/PT0S")),
    ("R2/PT1H/2026-01-01T00:00Z", CYCLE_FROM_END.format(field="timeCycle", text="R2/PT1H/2026-01-01T00:00Z")),
    ("R2/PT1H/PT2H", CYCLE_SHAPE.format(field="timeCycle", text="R2/PT1H/PT2H")),
    ("R2/a/b/c", CYCLE_SHAPE.format(field="timeCycle", text="R2/a/b/c")),
    ("PT1H", WRONG_FIELD.format(field="timeCycle", text="PT1H", found="a single duration",
                                advice="a cycle repeats: write R/PT1H to repeat without end "
                                       "or Rn/PT1H to repeat n times")),
    ("2026-01-01T09:00", WRONG_FIELD.format(field="timeCycle", text="2026-01-01T09:00", found="a date",
                                            advice="write it in a timeDate")),
    ("R/2026-01-02T00:00Z/2026-01-01T00:00Z",
     NEGATIVE.format(field="timeCycle", text="R/2026-01-02T00:00Z/2026-01-01T00:00Z")),
])
def test_bad_cycles_are_refused(text: str, message: str) -> None:
    assert refused("timeCycle", text) == message


# -- the minimum interval ---------------------------------------------------------------------------

def test_an_endless_cycle_shorter_than_the_minimum_interval_is_refused() -> None:
    assert refused("timeCycle", "R/PT0.5S") == TOO_FREQUENT.format(
        field="timeCycle", text="R/PT0.5S", interval="PT0.5S", minimum="PT1S")
    assert read("timeCycle", "R/PT1S").repetitions is None  # exactly the minimum is allowed


def test_the_minimum_interval_is_configurable() -> None:
    assert read("timeCycle", "R/PT0.5S", min_interval=timedelta(milliseconds=100)).period == Period(
        exact=timedelta(milliseconds=500))
    assert refused("timeCycle", "R/PT1M", min_interval=timedelta(hours=1)) == TOO_FREQUENT.format(
        field="timeCycle", text="R/PT1M", interval="PT60S", minimum="PT3600S")


def test_a_bounded_cycle_may_be_short_it_creates_at_most_n_tokens() -> None:
    spec = read("timeCycle", "R2/PT0.1S")
    assert schedule(spec, now=NOW) == [NOW + timedelta(milliseconds=100), NOW + timedelta(milliseconds=200)]


def test_a_cron_every_second_is_refused_when_the_minimum_is_longer() -> None:
    assert read("timeCycle", "* * * * * ?").kind == "cron"
    assert refused("timeCycle", "* * * * * ?", min_interval=timedelta(seconds=2)) == TOO_FREQUENT.format(
        field="timeCycle", text="* * * * * ?", interval="PT1S", minimum="PT2S")
    assert refused("timeCycle", "*/5 * * * *", min_interval=timedelta(minutes=10)) == TOO_FREQUENT.format(
        field="timeCycle", text="*/5 * * * *", interval="PT300S", minimum="PT600S")


def test_the_shortest_cron_gap_counts_the_step_over_midnight_only_on_consecutive_days() -> None:
    # 23:59:59 then 00:00:00: one second apart when it fires every day, a week apart on Mondays only.
    assert refused("timeCycle", "0,59 0,59 0,23 * * ?", min_interval=timedelta(seconds=2)) == TOO_FREQUENT.format(
        field="timeCycle", text="0,59 0,59 0,23 * * ?", interval="PT1S", minimum="PT2S")
    assert read("timeCycle", "0,59 0,59 0,23 ? * MON", min_interval=timedelta(seconds=2)).kind == "cron"
    assert read("timeCycle", "0 0 0 1 * ?", min_interval=timedelta(days=20)).kind == "cron"
    assert refused("timeCycle", "0 0 0 * * ?", min_interval=timedelta(days=2)) == TOO_FREQUENT.format(
        field="timeCycle", text="0 0 0 * * ?", interval="PT86400S", minimum="PT172800S")


# -- cron -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, now, expected", [
    # Classic five fields: minute first, day of week 0-7 from Sunday.
    ("*/5 * * * *", utc(2026, 7, 1, 10, 2), ["2026-07-01 12:05:00+0200", "2026-07-01 12:10:00+0200"]),
    ("0 9 * * 1-5", utc(2026, 7, 3, 12), ["2026-07-06 09:00:00+0200", "2026-07-07 09:00:00+0200"]),
    # Quartz: seconds first, ? for "no specific value"; the loan-granting example: every 5 seconds.
    ("0/5 0/1 * 1/1 * ?", utc(2026, 7, 1, 10, 0, 2), ["2026-07-01 12:00:05+0200", "2026-07-01 12:00:10+0200"]),
    ("0 0/5 * 1/1 * ?", utc(2026, 7, 1, 10, 2), ["2026-07-01 12:05:00+0200", "2026-07-01 12:10:00+0200"]),
    # L: the last day of the month.
    ("0 15 10 L * ?", utc(2026, 1, 1), ["2026-01-31 10:15:00+0100", "2026-02-28 10:15:00+0100",
                                        "2026-03-31 10:15:00+0200"]),
    # 6#3: the third Friday (Quartz counts 1 = SUN ... 7 = SAT).
    ("0 15 10 ? * 6#3", utc(2026, 1, 1), ["2026-01-16 10:15:00+0100", "2026-02-20 10:15:00+0100",
                                          "2026-03-20 10:15:00+0100"]),
    ("0 15 10 ? * FRI#3", utc(2026, 1, 1), ["2026-01-16 10:15:00+0100", "2026-02-20 10:15:00+0100",
                                            "2026-03-20 10:15:00+0100"]),
    # 6L: the last Friday; L alone in the day of week: Saturday.
    ("0 0 12 ? * 6L", utc(2026, 7, 1), ["2026-07-31 12:00:00+0200", "2026-08-28 12:00:00+0200"]),
    ("0 0 12 ? * L", utc(2026, 7, 1), ["2026-07-04 12:00:00+0200", "2026-07-11 12:00:00+0200"]),
    ("0 0 12 ? * 2-6", utc(2026, 7, 3, 12), ["2026-07-06 12:00:00+0200", "2026-07-07 12:00:00+0200"]),  # MON-FRI
    # 1W: the weekday nearest the 1st, never leaving the month (Aug 1 2026 is a Saturday: Monday the 3rd).
    ("0 0 12 1W * ?", utc(2026, 7, 15), ["2026-08-03 12:00:00+0200", "2026-09-01 12:00:00+0200",
                                         "2026-10-01 12:00:00+0200", "2026-11-02 12:00:00+0100"]),
    ("0 0 12 15W * ?", utc(2026, 8, 1), ["2026-08-14 12:00:00+0200", "2026-09-15 12:00:00+0200"]),  # Sat 15 Aug: Fri
    # Seven fields: the year last.
    ("0 0 12 ? * MON 2027", utc(2026, 7, 1), ["2027-01-04 12:00:00+0100", "2027-01-11 12:00:00+0100"]),
])
def test_cron_expressions(text: str, now: datetime, expected: list[str]) -> None:
    spec = read("timeCycle", text)
    assert (spec.kind, spec.reading, spec.repetitions) == ("cron", "literal", None)
    assert local(schedule(spec, now=now, limit=len(expected))) == expected


def test_a_cron_may_name_a_year_far_ahead() -> None:
    spec = read("timeCycle", "0 0 12 1 1 ? 2090")
    assert local([first_due(spec, now=NOW, tz=BERLIN)]) == ["2090-01-01 12:00:00+0100"]


def test_a_cron_with_a_year_ends() -> None:
    spec = read("timeCycle", "0 0 12 31 12 ? 2026")
    due = first_due(spec, now=NOW, tz=BERLIN)
    assert local([due]) == ["2026-12-31 12:00:00+0100"]
    assert next_due(spec, previous_due=due, fired=1, tz=BERLIN) is None
    with pytest.raises(TimerError) as caught:
        first_due(spec, now=utc(2027, 1, 1), tz=BERLIN)
    assert caught.value.message == NOTHING_LEFT.format(field="timeCycle", text="0 0 12 31 12 ? 2026",
                                                       now="2027-01-01T00:00:00+00:00")


@pytest.mark.parametrize("text, message", [
    ("0 0 12 LW * ?", CRON_UNSUPPORTED.format(field="timeCycle", text="0 0 12 LW * ?",
                                              feature="Quartz LW (the last weekday of the month)",
                                              why="croniter cannot express it")),
    ("0 0 12 L-3 * ?", CRON_UNSUPPORTED.format(field="timeCycle", text="0 0 12 L-3 * ?",
                                               feature="Quartz L-3 (days before the last day of the month)",
                                               why="croniter cannot express it")),
    ("0 0 12 31W * ?", CRON_UNSUPPORTED.format(
        field="timeCycle", text="0 0 12 31W * ?", feature="Quartz 31W (the weekday nearest day 31)",
        why="Quartz skips months without that day while croniter would use the month's last day; "
            "write 28W, or L for the last day")),
    ("0 0 12 1 * MON", QUARTZ_BOTH_DAYS.format(field="timeCycle", text="0 0 12 1 * MON")),
    ("0 0 12 ? * 0", QUARTZ_DAY_OF_WEEK.format(field="timeCycle", text="0 0 12 ? * 0", value="0")),
    ("0 0 12 ? * 1-8", QUARTZ_DAY_OF_WEEK.format(field="timeCycle", text="0 0 12 ? * 1-8", value="8")),
    ("H * * * *", CRON_UNSUPPORTED.format(field="timeCycle", text="H * * * *", feature="H (hashed values)",
                                          why="it is a Jenkins extension, neither Quartz nor cron")),
    ("0 0 12 30 2 ?", CRON_NEVER.format(field="timeCycle", text="0 0 12 30 2 ?")),
    ("0 L 12 * * ?", CRON_INVALID.format(field="timeCycle", text="0 L 12 * * ?",
                                         reason="'?', 'L', 'W' and '#' belong in the day fields, not in 'L'")),
])
def test_cron_features_croniter_cannot_express_are_refused_clearly(text: str, message: str) -> None:
    assert refused("timeCycle", text) == message


def test_an_invalid_cron_is_refused_with_croniters_reason() -> None:
    message = refused("timeCycle", "0 99 * * * ?")
    assert message.startswith("timeCycle '0 99 * * * ?' is not a valid cron expression: ")


def test_a_cron_in_a_duration_is_refused() -> None:
    assert refused("timeDuration", "0 0 12 * * ?") == WRONG_FIELD.format(
        field="timeDuration", text="0 0 12 * * ?", found="a cron expression", advice="write it in a timeCycle")


# -- daylight saving in Europe/Berlin (spring 2026-03-29, autumn 2026-10-25) ------------------------

def test_p1d_keeps_the_wall_clock_time_across_the_spring_change_and_pt24h_does_not() -> None:
    created = berlin(2026, 3, 27, 9)
    assert local(schedule(read("timeCycle", "R3/P1D"), now=created)) == [
        "2026-03-28 09:00:00+0100", "2026-03-29 09:00:00+0200", "2026-03-30 09:00:00+0200"]
    assert local(schedule(read("timeCycle", "R3/PT24H"), now=created)) == [
        "2026-03-28 09:00:00+0100", "2026-03-29 10:00:00+0200", "2026-03-30 10:00:00+0200"]


def test_p1d_keeps_the_wall_clock_time_across_the_autumn_change_and_pt24h_does_not() -> None:
    created = berlin(2026, 10, 23, 9)
    assert local(schedule(read("timeCycle", "R3/P1D"), now=created)) == [
        "2026-10-24 09:00:00+0200", "2026-10-25 09:00:00+0100", "2026-10-26 09:00:00+0100"]
    assert local(schedule(read("timeCycle", "R3/PT24H"), now=created)) == [
        "2026-10-24 09:00:00+0200", "2026-10-25 08:00:00+0100", "2026-10-26 08:00:00+0100"]


def test_a_p1d_duration_over_the_change_is_one_calendar_day_of_23_or_25_hours() -> None:
    spring, autumn = berlin(2026, 3, 28, 9), berlin(2026, 10, 24, 9)
    assert first_due(read("timeDuration", "P1D"), now=spring, tz=BERLIN) - spring == timedelta(hours=23)
    assert first_due(read("timeDuration", "PT24H"), now=spring, tz=BERLIN) - spring == timedelta(hours=24)
    assert first_due(read("timeDuration", "P1D"), now=autumn, tz=BERLIN) - autumn == timedelta(hours=25)
    assert first_due(read("timeDuration", "P1DT1H"), now=autumn, tz=BERLIN) - autumn == timedelta(hours=26)


def test_a_weekly_cycle_with_a_start_keeps_its_wall_clock_time() -> None:
    spec = read("timeCycle", "R3/2026-03-22T09:00/P1W")
    assert local(schedule(spec, now=utc(2026, 3, 1))) == [
        "2026-03-22 09:00:00+0100", "2026-03-29 09:00:00+0200", "2026-04-05 09:00:00+0200"]


def test_cron_runs_on_the_local_wall_clock_across_both_changes() -> None:
    assert local(schedule(read("timeCycle", "0 0 9 * * ?"), now=berlin(2026, 3, 28, 10), limit=2)) == [
        "2026-03-29 09:00:00+0200", "2026-03-30 09:00:00+0200"]
    assert local(schedule(read("timeCycle", "0 9 * * *"), now=berlin(2026, 10, 24, 10), limit=2)) == [
        "2026-10-25 09:00:00+0100", "2026-10-26 09:00:00+0100"]


def test_cron_in_the_spring_gap_moves_forward_and_in_the_autumn_hour_fires_once() -> None:
    assert local(schedule(read("timeCycle", "0 30 2 * * ?"), now=berlin(2026, 3, 28, 12), limit=2)) == [
        "2026-03-29 03:30:00+0200", "2026-03-30 02:30:00+0200"]
    assert local(schedule(read("timeCycle", "0 30 2 * * ?"), now=berlin(2026, 10, 24, 12), limit=2)) == [
        "2026-10-25 02:30:00+0200", "2026-10-26 02:30:00+0100"]


def test_a_frequent_cron_skips_the_missing_hour_and_fires_the_repeated_one_once() -> None:
    spring = schedule(read("timeCycle", "0 0/30 * * * ?"), now=berlin(2026, 3, 29, 1, 10), limit=4)
    assert local(spring) == ["2026-03-29 01:30:00+0100", "2026-03-29 03:00:00+0200", "2026-03-29 03:30:00+0200",
                             "2026-03-29 04:00:00+0200"]
    assert [b - a for a, b in zip(spring, spring[1:])] == [timedelta(minutes=30)] * 3  # no gap in real time
    autumn = schedule(read("timeCycle", "0 0/30 * * * ?"), now=berlin(2026, 10, 25, 1, 40), limit=4)
    assert local(autumn) == ["2026-10-25 02:00:00+0200", "2026-10-25 02:30:00+0200", "2026-10-25 03:00:00+0100",
                             "2026-10-25 03:30:00+0100"]


def test_a_cron_created_in_the_second_autumn_hour_waits_for_the_next_wall_clock_time() -> None:
    second_half = berlin(2026, 10, 25, 2, 40, fold=1)  # 02:40 CET, after 02:40 CEST has passed
    assert local([first_due(read("timeCycle", "0 0/15 * * * ?"), now=second_half, tz=BERLIN)]) == [
        "2026-10-25 03:00:00+0100"]


# -- readings: literal, ${...}, Python ----------------------------------------------------------------

def test_literal_reading() -> None:
    assert read("timeDuration", "PT10M").reading == "literal"


def test_juel_reading_with_variables() -> None:
    spec = read("timeDuration", "${due}", variables={"due": "PT10M"})
    assert (spec.kind, spec.reading, spec.text, spec.period) == (
        "duration", "juel", "PT10M", Period(exact=timedelta(minutes=10)))
    spec = read("timeDate", "${due}", variables={"due": datetime(2026, 2, 1, 9)})
    assert (spec.kind, spec.reading, spec.date) == ("date", "juel", utc(2026, 2, 1, 8))
    spec = read("timeCycle", "${order.reminder}", variables={"order": {"reminder": "R2/PT1H"}})
    assert (spec.kind, spec.reading, spec.repetitions) == ("cycle", "juel", 2)


def test_expressions_go_through_the_engines_evaluate() -> None:
    seen: list[Expression] = []

    def evaluate(expression: Expression) -> Any:
        seen.append(expression)
        return "PT5M"

    spec = read("timeDuration", "${due}", evaluate=evaluate)
    assert spec.reading == "juel" and spec.period == Period(exact=timedelta(minutes=5))
    assert [(e.language, e.python) for e in seen] == [(ExpressionLanguage.JUEL, "due")]


def test_python_reading_of_a_quoted_iso_value() -> None:
    spec = read("timeDuration", '"PT1S"')
    assert (spec.kind, spec.reading, spec.text) == ("duration", "python", "PT1S")
    assert spec.period == Period(exact=timedelta(seconds=1))


@pytest.mark.parametrize("value, instant", [
    (datetime(2026, 2, 1, 9), utc(2026, 2, 1, 8)),  # naive: Berlin
    (datetime(2026, 2, 1, 9, tzinfo=UTC), utc(2026, 2, 1, 9)),
    ("2026-02-01T09:00:00", utc(2026, 2, 1, 8)),  # SpiffWorkflow's `datetime.now().isoformat()`
    (date(2026, 2, 1), utc(2026, 1, 31, 23)),
])
def test_python_reading_of_a_variable_holding_a_date(value: Any, instant: datetime) -> None:
    spec = read("timeDate", "futuredate", variables={"futuredate": value})
    assert (spec.kind, spec.reading, spec.date) == ("date", "python", instant)
    assert first_due(spec, now=NOW, tz=BERLIN) == instant


def test_a_timedelta_value_is_elapsed_time() -> None:
    spec = read("timeDuration", "wait", variables={"wait": timedelta(days=1, milliseconds=500)})
    assert (spec.text, spec.period) == ("PT86400.5S", Period(exact=timedelta(days=1, milliseconds=500)))


@pytest.mark.parametrize("field, text, variables, message", [
    ("timeDuration", "${due}", {"due": 5},
     EVALUATED_TO.format(field="timeDuration", text="${due}", value=5, expected=DURATION_EXPECTED_VALUE)),
    ("timeDate", "when", {"when": timedelta(hours=1)},
     EVALUATED_TO.format(field="timeDate", text="when", value=timedelta(hours=1), expected=DATE_EXPECTED_VALUE)),
    ("timeDuration", "${due}", {"due": "soon"},
     EVALUATED_TO.format(field="timeDuration", text="${due}", value="soon", expected=DURATION_EXPECTED_VALUE)),
    ("timeDuration", "${due}", {"due": "2026-01-01"}, EVALUATED_INVALID.format(
        field="timeDuration", text="${due}", value="2026-01-01",
        reason=WRONG_FIELD.format(field="timeDuration", text="2026-01-01", found="a date",
                                  advice="write it in a timeDate"))),
    ("timeCycle", '"R/PT0.1S"', {}, EVALUATED_INVALID.format(
        field="timeCycle", text='"R/PT0.1S"', value="R/PT0.1S",
        reason=TOO_FREQUENT.format(field="timeCycle", text="R/PT0.1S", interval="PT0.1S", minimum="PT1S"))),
    ("timeDuration", "${missing}", {},
     EVALUATION_FAILED.format(field="timeDuration", text="${missing}", reason="name 'missing' is not defined")),
])
def test_evaluated_values_that_are_not_timer_values_are_refused(field: str, text: str, variables: dict[str, Any],
                                                                 message: str) -> None:
    assert refused(field, text, variables=variables) == message


@pytest.mark.parametrize("field, text, message", [
    ("timeDuration", "P${days}D", JUEL_REFUSED.format(
        field="timeDuration", text="P${days}D",
        reason="JUEL: only a single ${...} expression is supported, not text mixed with expressions")),
    ("timeDuration", "${due.plusDays(1)}", JUEL_REFUSED.format(
        field="timeDuration", text="${due.plusDays(1)}", reason="JUEL: method and function calls are not supported")),
    ("timeDuration", '=duration("PT1H")', FEEL_REFUSED.format(field="timeDuration", text='=duration("PT1H")')),
])
def test_expressions_that_cannot_be_read_are_refused(field: str, text: str, message: str) -> None:
    assert refused(field, text) == message


def test_a_definition_needs_exactly_one_value() -> None:
    with pytest.raises(TimerError) as caught:
        read_timer(EventDefinition(EventType.TIMER), element_id=ELEMENT, tz=BERLIN)
    assert (caught.value.message, caught.value.element) == (NO_VALUE, ELEMENT)
    both = EventDefinition(EventType.TIMER, time_date=Expression("2026-01-01", ExpressionLanguage.OTHER, None),
                           time_cycle=Expression("R/P1D", ExpressionLanguage.OTHER, None))
    with pytest.raises(TimerError) as caught:
        read_timer(both, element_id=ELEMENT, tz=BERLIN)
    assert caught.value.message == SEVERAL_VALUES.format(fields="timeDate and timeCycle")


# -- validate: check_timer / check_literal ------------------------------------------------------------

@pytest.mark.parametrize("field, text, reading, kind", [
    ("timeDuration", "PT10M", "literal", "duration"),
    ("timeCycle", "0 0/5 * 1/1 * ?", "literal", "cron"),
    ("timeCycle", "R3/PT10M", "literal", "cycle"),
    ("timeDuration", "${due}", "juel", None),
    ("timeDate", "futuredate", "python", None),
    ("timeDuration", '"PT0.25S"', "python", "duration"),  # a constant is read in full
])
def test_check_timer_says_which_reading_will_be_used(field: str, text: str, reading: str, kind: str | None) -> None:
    check = check_timer(timer(field, text), element_id=ELEMENT, tz=BERLIN)
    assert (check.element, check.reading, check.kind, check.error) == (ELEMENT, reading, kind, None)
    assert check_literal(timer(field, text), element_id=ELEMENT, tz=BERLIN) is None


def test_check_timer_reports_why_a_timer_cannot_be_read() -> None:
    check = check_timer(timer("timeCycle", "R/PT0S"), element_id=ELEMENT, tz=BERLIN)
    assert (check.reading, check.error) == (None, ZERO_PERIOD.format(field="timeCycle", text="R/PT0S"))
    assert check_literal(timer("timeCycle", '"R/PT0.5S"'), element_id=ELEMENT, tz=BERLIN,
                         min_interval=timedelta(seconds=1)) is not None
    assert check_literal(timer("timeCycle", '"R/PT0.5S"'), element_id=ELEMENT, tz=BERLIN,
                         min_interval=timedelta(milliseconds=500)) is None
    assert check_literal(timer("timeDuration", "42"), element_id=ELEMENT, tz=BERLIN) == EVALUATED_TO.format(
        field="timeDuration", text="42", value=42, expected=DURATION_EXPECTED_VALUE)


# -- storing a spec -----------------------------------------------------------------------------------

@pytest.mark.parametrize("field, text", [
    ("timeDate", "2036-11-14T11:12:22"), ("timeDuration", "P1DT0.5S"), ("timeCycle", "R4/2026-01-01T09:00/P1W"),
    ("timeCycle", "R/P1M"), ("timeCycle", "0 15 10 ? * 6#3"), ("timeCycle", "*/5 * * * *"),
])
def test_a_spec_survives_json(field: str, text: str) -> None:
    spec = read(field, text)
    stored = json.loads(json.dumps({**spec_to_dict(spec), "fired": 2, "due": NOW.isoformat()}))
    assert stored["type"] == "timer_spec" and stored["repetitions"] == spec.repetitions
    assert spec_from_dict(stored) == spec
    assert first_due(spec_from_dict(stored), now=NOW, tz=BERLIN) == first_due(spec, now=NOW, tz=BERLIN)


def test_first_due_needs_an_aware_now() -> None:
    with pytest.raises(ValueError):
        first_due(read("timeDuration", "PT1M"), now=datetime(2026, 1, 1), tz=BERLIN)


# -- every timer in tests/corpus ----------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
DURATION, CYCLE, CRON, DATE = "duration", "cycle", "cron", "date"

#: What each value found in the corpus reads as: (reading, kind) or the message it is refused with.
CORPUS_OUTCOMES: dict[str, tuple[str, str | None] | str] = {
    "PT0S": ("literal", DURATION), "PT10S": ("literal", DURATION), "PT1M": ("literal", DURATION),
    "PT5M": ("literal", DURATION), "PT1H": ("literal", DURATION), "PT2H": ("literal", DURATION),
    "PT3H": ("literal", DURATION), "P7D": ("literal", DURATION),
    "R3/PT10M": ("literal", CYCLE), "R6/P1D": ("literal", CYCLE), "R1/P5D": ("literal", CYCLE),
    "0/5 0/1 * 1/1 * ?": ("literal", CRON),
    "2036-11-14T11:12:22": ("literal", DATE),
    '"PT0.002S"': ("python", DURATION), '"PT0.03S"': ("python", DURATION), '"PT0.2S"': ("python", DURATION),
    '"PT0.25S"': ("python", DURATION), '"PT0.5S"': ("python", DURATION), '"PT1S"': ("python", DURATION),
    '"R2/PT0.1S"': ("python", CYCLE),  # bounded: two tokens, however short the period
    "futuredate": ("python", None),
    "DateTime.AddDays(Execution.Created, 1)": ("python", None),  # reads as Python; fails when evaluated
    "1w/timeDuration": UNREADABLE.format(field="timeDuration", text="1w", expected=DURATION_EXPECTED),
    "1w/timeCycle": UNREADABLE.format(
        field="timeCycle", text="1w",
        expected="an ISO 8601 repeating interval (such as R3/PT10M) or a cron expression"),
    "": NO_VALUE,
}


def _corpus_timers() -> list[Any]:
    """Every timerEventDefinition in the corpus (also the unreferenced top-level ones), built as
    the parser builds them, named by their event (or their own id)."""
    cases = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix not in (".bpmn", ".xml"):
            continue
        root = parse_xml(path.read_bytes())
        for element in root.iter(ns.q(ns.BPMN, "timerEventDefinition")):
            values: dict[str, Expression] = {}
            for field, attribute in FIELDS.items():
                child = element.find(ns.q(ns.BPMN, field))
                text = "".join(child.itertext()).strip() if child is not None else ""
                if text:
                    values[attribute] = Expression(text, ExpressionLanguage.OTHER, None)
            parent = element.getparent()
            owner = parent.get("id") if parent is not None and parent.tag != ns.q(ns.BPMN, "definitions") else None
            element_id = owner or element.get("id") or f"line {element.sourceline}"
            cases.append(pytest.param(EventDefinition(EventType.TIMER, **values), element_id,
                                      id=f"{path.parent.name}/{path.name}#{element_id}"))
    return cases


CORPUS_TIMERS = _corpus_timers()


def test_the_corpus_has_the_timers_the_issue_names() -> None:
    assert len(CORPUS_TIMERS) >= 40


@pytest.mark.parametrize("definition, element_id", CORPUS_TIMERS)
def test_every_corpus_timer_reads_or_is_refused_clearly(definition: EventDefinition, element_id: str) -> None:
    present = [(field, getattr(definition, attribute)) for field, attribute in FIELDS.items()
               if getattr(definition, attribute) is not None]
    field, text = (present[0][0], present[0][1].source) if present else ("", "")
    key = f"{text}/{field}" if f"{text}/{field}" in CORPUS_OUTCOMES else text
    assert key in CORPUS_OUTCOMES, f"a new timer value in the corpus: {text!r}; add its outcome to CORPUS_OUTCOMES"
    expected = CORPUS_OUTCOMES[key]
    check = check_timer(definition, element_id=element_id, tz=BERLIN)
    assert check.element == element_id
    if isinstance(expected, str):
        assert (check.reading, check.error) == (None, expected)
        with pytest.raises(TimerError) as caught:
            read_timer(definition, element_id=element_id, tz=BERLIN)
        assert (caught.value.message, caught.value.element) == (expected, element_id)
        return
    assert (check.reading, check.kind, check.error) == (*expected, None)
    if expected[1] is not None:  # a literal or a constant: it schedules
        spec = read_timer(definition, element_id=element_id, tz=BERLIN)
        assert first_due(spec, now=NOW, tz=BERLIN) is not None


def test_corpus_expressions_evaluate_against_variables_or_fail_naming_the_element() -> None:
    futuredate = timer("timeDate", "futuredate")
    spec = read_timer(futuredate, element_id="Event_0eb0w95", tz=BERLIN,
                      variables={"futuredate": "2026-01-10T13:00:00.050000"})
    assert first_due(spec, now=NOW, tz=BERLIN) == utc(2026, 1, 10, 12, 0, 0, 50_000)
    with pytest.raises(TimerError) as caught:
        read_timer(timer("timeDate", "DateTime.AddDays(Execution.Created, 1)"), element_id="ID_UserTimeoutEvent",
                   tz=BERLIN, variables={})
    assert caught.value.element == "ID_UserTimeoutEvent"
    assert caught.value.message == EVALUATION_FAILED.format(
        field="timeDate", text="DateTime.AddDays(Execution.Created, 1)", reason="name 'DateTime' is not defined")
