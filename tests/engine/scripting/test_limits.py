"""Time and memory limits: loops end with ScriptTimeout, bombs with ScriptMemoryError, and the
process state the limits borrow (SIGALRM, the interval timer, RLIMIT_AS) is always given back."""
from __future__ import annotations

import resource
import signal
import statistics
import threading
import time
from typing import Any, Callable

import pytest

from orchestrator.errors import ScriptError, ScriptMemoryError, ScriptTimeout
from orchestrator.scripting import Sandbox, SandboxLimits, ScriptResult

FAST = Sandbox(SandboxLimits(time_limit=0.5))
QUICK = Sandbox(SandboxLimits(time_limit=0.1))
MB = 1024 * 1024


def run(source: str, variables: dict[str, Any] | None = None, sandbox: Sandbox = FAST) -> ScriptResult:
    return sandbox.run_script(sandbox.compile_script(source, element_id="Task_1"), variables or {})


def error_of(call: Callable[[], Any], kind: type[ScriptError]) -> ScriptError:
    with pytest.raises(ScriptError) as caught:
        call()
    assert type(caught.value) is kind, caught.value
    assert caught.value.element is not None
    return caught.value


def timed_out(source: str, sandbox: Sandbox = FAST, limit: float = 0.5) -> tuple[ScriptError, float]:
    started = time.monotonic()
    error = error_of(lambda: run(source, sandbox=sandbox), ScriptTimeout)
    elapsed = time.monotonic() - started
    assert limit <= elapsed + 0.02 and elapsed < limit + 1.0, elapsed
    return error, elapsed


# -- time -----------------------------------------------------------------------------


def test_an_endless_loop_ends_with_a_timeout_naming_element_and_line():
    error, _ = timed_out("x = 1\nwhile True: pass")
    assert error.element == "Task_1"
    assert error.message == "line 2: the script ran longer than its time limit of 0.5 seconds"


def test_a_long_for_loop_ends_with_a_timeout():
    # 10**7 iterations take ~0.4 s, so the limit here is 0.1 s.
    timed_out("for i in range(10**7):\n    pass", sandbox=QUICK, limit=0.1)


@pytest.mark.parametrize(
    "source",
    [
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
        "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass",
        "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
        "def gen():\n    while True:\n        try:\n            yield 1\n        except:\n            pass\nfor x in gen():\n    pass",
        "def f():\n    try:\n        return f()\n    except RecursionError:\n        return f()\nwhile True:\n    f()",
    ],
    ids=["bare-except", "except-exception", "finally", "generator", "recursion"],
)
def test_scripts_cannot_swallow_the_timeout(source: str):
    timed_out(source)


def test_an_expression_times_out_too():
    started = time.monotonic()
    expression = QUICK.compile_expression("sum(1 for i in range(10**7)) > 0", element_id="Flow_1")
    error = error_of(lambda: QUICK.evaluate(expression, {}), ScriptTimeout)
    assert error.message == "the expression ran longer than its time limit of 0.1 seconds"
    assert time.monotonic() - started < 1.0


def test_outside_the_main_thread_the_time_limit_still_holds():
    outcome: dict[str, Any] = {}

    def worker() -> None:
        started = time.monotonic()
        try:
            run("while True:\n    try:\n        while True:\n            pass\n    except:\n        pass")
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            outcome["error"] = exc
        outcome["elapsed"] = time.monotonic() - started
        outcome["result"] = run("x = 1 + 1")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert type(outcome["error"]) is ScriptTimeout
    assert 0.5 <= outcome["elapsed"] < 2.0
    assert outcome["result"].set == {"x": 2}


def test_the_previous_alarm_handler_and_timer_are_restored():
    def theirs(signum: int, frame: Any) -> None:
        raise AssertionError("their alarm fired during the test")

    saved_handler = signal.signal(signal.SIGALRM, theirs)
    saved_timer = signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        run("x = 1")
        assert signal.getsignal(signal.SIGALRM) is theirs
        assert 29.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30.0
        timed_out("while True:\n    pass")
        assert signal.getsignal(signal.SIGALRM) is theirs
        assert 28.0 < signal.getitimer(signal.ITIMER_REAL)[0] < 29.6
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, saved_handler)
        if saved_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *saved_timer)


def test_a_pending_alarm_that_would_have_fired_fires_right_after():
    fired: list[float] = []
    saved_handler = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(time.monotonic()))
    saved_timer = signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        timed_out("while True:\n    pass")
        time.sleep(0.05)
        assert len(fired) == 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, saved_handler)
        if saved_timer[0]:
            signal.setitimer(signal.ITIMER_REAL, *saved_timer)


# -- memory ---------------------------------------------------------------------------

BOMBS = [
    ("[0] * 10**10", "this would build a list of 10,000,000,000 items, more than the limit of 10,000,000"),
    ("'a' * 10**11", "this would build a string of 100,000,000,000 items"),
    ("s = 'a'\nfor i in range(40):\n    s = s + s", "line 3: this would build a string of 16,777,216 items"),
    ("s = 'a'\nfor i in range(40):\n    s += s", "line 3: this would build a string of 16,777,216 items"),
    ("x = 10**10**10", "this would build an integer of about 33,219,280,948 bits, more than the limit of 100,000 bits"),
    ("x = 1 << 10**10", "this would build an integer of about 10,000,000,001 bits"),
    ("x = 3\nwhile True:\n    x = x * x", "line 3: this would build an integer of about 103,874 bits, more than the limit of 100,000 bits"),
    ("x = list(range(10**10))", "this would build a range of 10,000,000,000 items"),
    ("x = range(2**70)", "this would build a range of 10,000,001 items"),
    ("x = 'x'.ljust(10**10)", "this would build a text of about 10,000,000,000 characters"),
    ("x = 'x'.zfill(10**10)", "this would build a text of about 10,000,000,000 characters"),
    ("x = str.center('x', 10**10)", "this would build a text of about 10,000,000,000 characters"),
    ("x = ('a' * 1000).replace('', 'x' * 10**6)", "this would build a text of about 1,001,001,000 characters"),
    ("x = ('\\t' * 1000).expandtabs(10**5)", "this would build a text of about 100,001,000 characters"),
    ("s = 'x' * 10**6\nx = s.join([s] * 20)", "this would build a text of about 39,000,000 characters"),
    ("s = 'ab'\nfor i in range(40):\n    s = f'{s}{s}'", "line 3: this would build a text of about 16,777,216"),
    ("s = 'ab'\nfor i in range(40):\n    s = '%s%s' % (s, s)", "line 3: this would build a text of about 16,777,2"),
    ("x = '%0999999999d' % 1", "this would build a text of about 1,000,000,011 characters"),
    ("x = f'{1:>999999999}'", "this would build a text of about 1,000,000,020 characters"),
    ("s = 'x' * 10**6\nx = str([s] * 1000)", "this would build a text of about 10,00"),
    ("s = 'x' * 10**6\nx = f'{[s] * 1000}'", "this would build a text of about 10,00"),
    ("s = 'x' * 10**6\nx = json_dumps([s] * 1000)", "this would build a text of about 10,00"),
    ("s = 'x' * 10**6\nprint([s] * 1000)", "this would build a text of about 10,00"),
    ("s = 'x' * 10**6\ntry:\n    raise ValueError([s] * 1000)\nexcept ValueError as e:\n    m = str(e)",
     "line 5: this would build a text of about 10,00"),
    ("s = 'x' * 10**6\nd = {'a': [s] * 1000}\nm = str(d.values())", "this would build a text of about 10,00"),
    ("s = 'x' * 10**6\nm = repr(list[[s] * 1000])", "this would build a text of about 10,00"),
    ("l = [0]\nwhile True:\n    l.extend(l)", "line 3: this would build a list of 16,777,216 items"),
    ("l = [0]\nwhile True:\n    l[len(l):] = l", "line 3: this would build a list of 16,777,216 items"),
    ("l = [0]\nwhile True:\n    l *= 2", "line 3: this would build a list of 16,777,216 items"),
    ("x = math.factorial(10**6)", "this would build an integer of about 18,488,884 bits"),
    ("x = math.comb(10**9, 10**5)", "this would build an integer of about 1,473,023 bits"),
    ("x = int(Decimal('1e999999'))", "this would build an integer of about 3,321,9"),
    ("x = round(Decimal('1e999999'))", "this would build an integer of about 3,321,9"),
    ("x = math.floor(Decimal('1e999999'))", "this would build an integer of about 3,321,9"),
    ("x = '%d' % Decimal('1e999999')", "this would build an integer of about 3,321,9"),
    ("a = [0]\nfor i in range(64):\n    a = [a, a]", "variable 'a' would take more than 10,000,000 characters when stored"),
]


@pytest.mark.parametrize(("source", "message"), BOMBS, ids=[source for source, _ in BOMBS])
def test_memory_bombs_fail_cleanly_before_allocating(source: str, message: str):
    error = error_of(lambda: run(source), ScriptMemoryError)
    assert message in error.message, error.message


def test_a_size_refusal_cannot_be_caught_by_the_script():
    source = "try:\n    x = [0] * 10**10\nexcept:\n    x = 'caught'"
    assert "10,000,000,000 items" in error_of(lambda: run(source), ScriptMemoryError).message


def test_the_limits_are_those_configured():
    small = Sandbox(SandboxLimits(max_sequence_length=100, max_int_bits=64))
    assert run("a = 'x' * 100\nb = 2 ** 63", sandbox=small).set == {"a": "x" * 100, "b": 2**63}
    assert "101 items, more than the limit of 100" in error_of(lambda: run("a = 'x' * 101", sandbox=small),
                                                             ScriptMemoryError).message
    assert "limit of 64 bits" in error_of(lambda: run("b = 2 ** 65", sandbox=small), ScriptMemoryError).message


def test_an_expression_result_too_large_to_store_is_refused():
    expression = FAST.compile_expression("[s] * 100", element_id="Flow_1")
    error = error_of(lambda: FAST.evaluate(expression, {"s": "x" * 1_000_000}), ScriptMemoryError)
    assert error.message == "the result would take more than 10,000,000 characters when stored"


@pytest.mark.parametrize("catch", ["", "except Exception:\n    pass\n", "except:\n    pass\n"])
def test_the_address_space_backstop_turns_an_unforeseen_allocation_into_a_memory_error(catch: str):
    sandbox = Sandbox(SandboxLimits(time_limit=5.0, memory_headroom=256 * MB))
    before = resource.getrlimit(resource.RLIMIT_AS)
    body = "a = [[0] * 10**7 for i in range(100)]"
    source = f"try:\n    {body}\n{catch}" if catch else body
    error = error_of(lambda: run(source, sandbox=sandbox), ScriptMemoryError)
    assert "ran out of memory (it may use 256 MB more than the worker does)" in error.message
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert run("b = [0] * 1000", sandbox=sandbox).set == {"b": [0] * 1000}


def test_the_backstop_is_armed_during_the_run_and_only_then():
    def probe() -> list[Any]:
        return [resource.getrlimit(resource.RLIMIT_AS)[0], signal.getitimer(signal.ITIMER_REAL)[0]]

    sandbox = Sandbox(SandboxLimits(memory_headroom=64 * MB), extra_globals={"probe": probe})
    before = resource.getrlimit(resource.RLIMIT_AS)
    soft, timer = run("seen = probe()", sandbox=sandbox).set["seen"]
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    assert soft != resource.RLIM_INFINITY and size < soft < size + 128 * MB
    assert 4.0 < timer <= 5.0
    assert resource.getrlimit(resource.RLIMIT_AS) == before


# -- cost -----------------------------------------------------------------------------


def _median_us(call: Callable[[], Any], rounds: int = 2000) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def test_the_per_step_cost_fits_the_engine_budget():
    # Measured ~7 µs and ~1 µs; the bounds are the engine's budget, loose enough for CI.
    sandbox = Sandbox()
    variables = {"x": 1, "d": {"a": 1}, "l": [1, 2], "s": "text", **{f"v{i}": i for i in range(6)}}
    script = sandbox.compile_script("x = x + 1", element_id="Task_1")
    condition = sandbox.compile_expression("x > 1", element_id="Flow_1")
    assert _median_us(lambda: sandbox.run_script(script, variables)) < 45
    assert _median_us(lambda: sandbox.evaluate(condition, variables)) < 15
