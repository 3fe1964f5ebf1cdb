"""`scripts/bench engine`: Baton's engine against SpiffWorkflow 3.2.0 on the same BPMN models.

Every case is one XML document from `bench.models`, fed unchanged to both engines:

- Baton: `parse()`, then one `Engine` with the real sandbox and the options `simulate` uses
  (no chunking, `copy_state=False`), built once per case like a worker builds it once per
  process version; a run is `engine.start(variables)`.
- SpiffWorkflow: `BpmnParser` and `get_spec()` once per case; a run is a new `BpmnWorkflow`,
  the start variables put on its ready task, and `do_engine_steps()`.

Parsing and engine/spec building stay outside the clock; runs are inside. After every run the
final variables are compared with the model's expected ones (outside the clock), so neither
engine can meet a target by skipping work. Spiff runs in a child process with a time budget:
past ~500 steps it fails (recursion while building the spec, a task tree it stops walking at
depth 1,000), and a failure or a time-out is reported as "n/a (reason)", never a hang.

Machines are noisy, so the numbers that matter are ratios measured in the same run, and each
measurement is the best of several samples. Nothing here asserts on time: a missed target
prints FAIL and the command still exits 0. It exits 1 only when Baton's own result is wrong.
"""
from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import platform
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any, Callable

from bench import models
from bench.models import BenchModel

# key -> model factory, in the order the table shows them
CASES: dict[str, Callable[[], BenchModel]] = {
    "chain-10": lambda: models.chain(10),
    "chain-100": lambda: models.chain(100),
    "chain-400": lambda: models.chain(400),
    "chain-1000": lambda: models.chain(1_000),
    "chain-10000": lambda: models.chain(10_000),
    "parallel-10": lambda: models.parallel(10),
    "loop-10000": lambda: models.loop(10_000),
}

SPIFF_VERSION = "3.2.0"
RATIO_CASE, RATIO_TARGET = "chain-400", 20.0
FLAT_SMALL, FLAT_LARGE, FLAT_TARGET = "chain-100", "chain-10000", 1.5

DEFAULT_REPEAT = 5
DEFAULT_SAMPLE_STEPS = 10_000
DEFAULT_SPIFF_SAMPLE_STEPS = 2_000
DEFAULT_SPIFF_BUDGET = 30.0


class WrongResult(Exception):
    """A run ended in a state other than the model's expected one."""


@dataclass(frozen=True)
class Outcome:
    completed: bool
    variables: dict[str, Any]
    detail: str | None = None


def check(model: BenchModel, outcome: Outcome) -> None:
    if outcome.completed and outcome.variables == model.expected:
        return
    state = "reported completion" if outcome.completed else "did not complete"
    detail = f" ({outcome.detail})" if outcome.detail else ""
    raise WrongResult(f"{state}{detail} with variables {_short(outcome.variables)}, expected {_short(model.expected)}")


# -- the two engines --------------------------------------------------------------------------------

Runner = Callable[[], Any]
ToOutcome = Callable[[Any], Outcome]


def baton_runner(model: BenchModel) -> tuple[Runner, ToOutcome]:
    """Parse and build the engine now; the returned runner starts one instance per call."""
    from orchestrator.bpmn.parser import parse
    from orchestrator.runtime.engine import Engine, EngineOptions
    from orchestrator.runtime.variables import decode_variables
    from orchestrator.scripting import Sandbox

    definitions = parse(model.xml).definitions
    engine = Engine.for_definitions(definitions, model.process_id, sandbox=Sandbox(),
                                    options=EngineOptions(chunk_steps=None, copy_state=False))
    variables = model.variables

    def run() -> Any:
        return engine.start(variables)

    def outcome(result: Any) -> Outcome:
        state = result.state
        detail = next((i["message"] for i in state["incidents"].values()), None)
        return Outcome(state["status"] == "completed", decode_variables(state["variables"]), detail)

    return run, outcome


def spiff_runner(model: BenchModel) -> tuple[Runner, ToOutcome]:
    """Parse and build the spec now; the returned runner runs one workflow per call."""
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(model.xml.encode("utf-8"))
    spec = parser.get_spec(model.process_id)
    variables = model.variables

    def run() -> Any:
        workflow = BpmnWorkflow(spec)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(variables)
        workflow.do_engine_steps()
        return workflow

    def outcome(workflow: Any) -> Outcome:
        return Outcome(workflow.is_completed(), dict(workflow.data))

    return run, outcome


# -- measuring ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timing:
    seconds_per_run: float
    """Best sample's time divided by its runs."""
    first_run: float
    """The untimed warm-up run (Baton compiles each script there, once per engine)."""
    runs_per_sample: int
    samples: int


CLOCKS: dict[str, Callable[[], float]] = {
    "cpu": time.process_time,  # this process's CPU time: other load on the machine counts less
    "wall": time.perf_counter,
}


def warm_up(model: BenchModel, run: Runner, outcome: ToOutcome, clock: Callable[[], float]) -> float:
    """One run, checked; its time (it includes what an engine does once, such as compiling)."""
    began = clock()
    result = run()
    elapsed = clock() - began
    check(model, outcome(result))
    return elapsed


def sample(model: BenchModel, run: Runner, outcome: ToOutcome, runs: int, clock: Callable[[], float]) -> float:
    """Seconds per run over `runs` back-to-back runs, each checked once the clock has stopped."""
    results: list[Any] = []
    began = clock()
    for _ in range(runs):
        results.append(run())
    elapsed = clock() - began
    for result in results:
        check(model, outcome(result))
    return elapsed / runs


def runs_per_sample(model: BenchModel, sample_steps: int) -> int:
    return max(1, math.ceil(sample_steps / model.steps))


def measure(model: BenchModel, run: Runner, outcome: ToOutcome, *, repeat: int, sample_steps: int,
            clock: str = "cpu") -> Timing:
    """One warm-up run, then the best of `repeat` samples."""
    tick = CLOCKS[clock]
    first = warm_up(model, run, outcome, tick)
    runs = runs_per_sample(model, sample_steps)
    best = min(sample(model, run, outcome, runs, tick) for _ in range(repeat))
    return Timing(best, first, runs, repeat)


def measure_baton(cases: dict[str, BenchModel], *, repeat: int, sample_steps: int, clock: str,
                  progress: bool = False) -> dict[str, Timing]:
    """Baton on every case, in rounds: each round takes one sample of every case, so that a
    burst of load on the machine hits all cases alike and the best of the rounds escapes it.
    Raises WrongResult when a run ends wrong."""
    tick = CLOCKS[clock]
    prepared = {key: (model, *baton_runner(model)) for key, model in cases.items()}
    first = {key: warm_up(model, run, outcome, tick) for key, (model, run, outcome) in prepared.items()}
    runs = {key: runs_per_sample(model, sample_steps) for key, (model, _run, _outcome) in prepared.items()}
    best = {key: math.inf for key in prepared}
    for round_number in range(1, repeat + 1):
        if progress:
            print(f"  Baton: round {round_number}/{repeat}", file=sys.stderr, flush=True)
        for key, (model, run, outcome) in prepared.items():
            best[key] = min(best[key], sample(model, run, outcome, runs[key], tick))
    return {key: Timing(best[key], first[key], runs[key], repeat) for key in prepared}


def _spiff_child(conn: Any, model: BenchModel, repeat: int, sample_steps: int, clock: str) -> None:
    phase = "building the spec"
    try:
        run, outcome = spiff_runner(model)
        phase = "running"
        timing = measure(model, run, outcome, repeat=repeat, sample_steps=sample_steps, clock=clock)
        conn.send({"timing": asdict(timing)})
    except WrongResult as exc:
        conn.send({"na": f"wrong result: {exc}"})
    except Exception as exc:  # whatever Spiff raises is the measurement's result, not a crash
        conn.send({"na": f"{phase} failed: {_root_cause(exc)}"})
    finally:
        conn.close()


def measure_spiff(model: BenchModel, *, repeat: int, sample_steps: int, clock: str, budget: float) -> Timing | str:
    """Spiff's timing, measured in a child process killed after `budget` seconds; or why not."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_spiff_child, args=(sender, model, repeat, sample_steps, clock),
                            daemon=True)
    child.start()
    sender.close()
    message: dict[str, Any] | None = None
    try:
        if receiver.poll(budget):
            try:
                message = receiver.recv()
            except EOFError:
                message = None
        else:
            message = {"na": f"over the time budget of {budget:g} s per case"}
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if message is None:
        return f"Spiff's process died (exit code {child.exitcode})"
    if "na" in message:
        return message["na"]
    return Timing(**message["timing"])


# -- the report ---------------------------------------------------------------------------------------

@dataclass
class CaseResult:
    key: str
    case: str
    steps: int
    baton: Timing
    spiff: Timing | None
    spiff_na: str | None

    @property
    def baton_us(self) -> float:
        return self.baton.seconds_per_run / self.steps * 1e6

    @property
    def spiff_us(self) -> float | None:
        return None if self.spiff is None else self.spiff.seconds_per_run / self.steps * 1e6

    @property
    def ratio(self) -> float | None:
        return None if self.spiff is None else self.spiff.seconds_per_run / self.baton.seconds_per_run

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "case": self.case, "steps": self.steps,
            "baton_us_per_step": round(self.baton_us, 3),
            "spiff_us_per_step": None if self.spiff_us is None else round(self.spiff_us, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "spiff_na": self.spiff_na,
            "baton_first_run_us_per_step": round(self.baton.first_run / self.steps * 1e6, 3),
            "baton_runs_per_sample": self.baton.runs_per_sample,
            "spiff_runs_per_sample": None if self.spiff is None else self.spiff.runs_per_sample,
        }


@dataclass(frozen=True)
class Target:
    label: str
    verdict: str  # PASS, FAIL or SKIP
    value: float | None
    detail: str

    @property
    def line(self) -> str:
        return f"target {self.label}: {self.verdict} ({self.detail})"


def targets(results: dict[str, CaseResult]) -> list[Target]:
    out = []
    label = f"400-step chain >= {RATIO_TARGET:g}x Spiff"
    row = results.get(RATIO_CASE)
    if row is None:
        out.append(Target(label, "SKIP", None, f"{RATIO_CASE} was not run"))
    elif row.ratio is None:
        out.append(Target(label, "FAIL", None, f"no ratio: Spiff n/a ({row.spiff_na})"))
    else:
        out.append(Target(label, "PASS" if row.ratio >= RATIO_TARGET else "FAIL", row.ratio, f"{row.ratio:.1f}x"))
    label = f"per-step 10,000 vs 100 <= {FLAT_TARGET:g}x"
    small, large = results.get(FLAT_SMALL), results.get(FLAT_LARGE)
    if small is None or large is None:
        out.append(Target(label, "SKIP", None, f"{FLAT_SMALL} and {FLAT_LARGE} must both run"))
    else:
        value = large.baton_us / small.baton_us
        out.append(Target(label, "PASS" if value <= FLAT_TARGET else "FAIL", value,
                          f"{value:.2f}x: {large.baton_us:.1f} vs {small.baton_us:.1f} µs/step"))
    return out


def method(args: argparse.Namespace) -> list[str]:
    return [
        "same BPMN XML for both engines; a step is a token entering a flow node (a join counts each arriving token)",
        "parse and engine/spec building outside the clock, runs inside; final variables checked after every run",
        f"clock: {'CPU time of the measuring process' if args.clock == 'cpu' else 'wall time'}; "
        f"per case and engine 1 untimed warm-up run, then best of {args.repeat} samples; a sample is "
        f"ceil({args.sample_steps:,} / steps) runs back to back for Baton, ceil({args.spiff_sample_steps:,} / steps) for Spiff",
        "Baton in this process, in rounds (one sample of every case per round); "
        f"Spiff in a child process per case, {args.spiff_budget:g} s budget each; ratio = Spiff time / Baton time",
    ]


def render_table(results: list[CaseResult]) -> list[str]:
    rows = [("case", "steps", "Baton µs/step", "Spiff µs/step", "ratio")]
    for r in results:
        rows.append((
            r.case, f"{r.steps:,}", f"{r.baton_us:,.1f}",
            "n/a" if r.spiff_us is None else f"{r.spiff_us:,.1f}",
            f"n/a ({r.spiff_na})" if r.ratio is None else f"{r.ratio:,.1f}x",
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in range(1, 4)] + [row[4]]
        lines.append("  ".join(cells))
    return lines


# -- the command --------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench engine",
        description="Time Baton's engine against SpiffWorkflow 3.2.0 on the same BPMN models.",
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--case", action="append", choices=list(CASES), metavar="CASE",
                        help=f"run only this case (repeatable): {', '.join(CASES)}")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT,
                        help=f"timed samples per case and engine, the best counts (default {DEFAULT_REPEAT})")
    parser.add_argument("--sample-steps", type=int, default=DEFAULT_SAMPLE_STEPS,
                        help=f"a Baton sample repeats the run until it covers this many steps (default {DEFAULT_SAMPLE_STEPS:,})")
    parser.add_argument("--spiff-sample-steps", type=int, default=DEFAULT_SPIFF_SAMPLE_STEPS,
                        help=f"the same for Spiff, slower per step (default {DEFAULT_SPIFF_SAMPLE_STEPS:,})")
    parser.add_argument("--spiff-budget", type=float, default=DEFAULT_SPIFF_BUDGET,
                        help=f"seconds Spiff may take on one case before it is stopped and reported n/a "
                             f"(default {DEFAULT_SPIFF_BUDGET:g})")
    parser.add_argument("--clock", choices=list(CLOCKS), default="cpu",
                        help="cpu: the measuring process's CPU time (default, steadier on a busy machine); wall: elapsed time")
    parser.add_argument("--no-spiff", action="store_true", help="time Baton alone")
    parser.add_argument("--profile", choices=list(CASES), metavar="CASE",
                        help="instead of the comparison, profile Baton on one case with cProfile")
    args = parser.parse_args(argv)
    if min(args.repeat, args.sample_steps, args.spiff_sample_steps) < 1 or args.spiff_budget <= 0:
        parser.error("--repeat, --sample-steps, --spiff-sample-steps and --spiff-budget must be positive")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.profile:
        return profile(args.profile)
    cases = {key: factory() for key, factory in CASES.items() if not args.case or key in args.case}
    spiff_version = _version("SpiffWorkflow")
    progress = sys.stderr.isatty() and not args.json
    try:
        baton = measure_baton(cases, repeat=args.repeat, sample_steps=args.sample_steps, clock=args.clock,
                              progress=progress)
    except WrongResult as exc:
        print(f"scripts/bench engine: Baton gave a wrong result: {exc}", file=sys.stderr)
        return 1
    results: dict[str, CaseResult] = {}
    for key, model in cases.items():
        spiff: Timing | None = None
        spiff_na: str | None = "not run (--no-spiff)"
        if not args.no_spiff:
            if progress:
                print(f"  Spiff: {model.name}", file=sys.stderr, flush=True)
            measured = measure_spiff(model, repeat=args.repeat, sample_steps=args.spiff_sample_steps,
                                     clock=args.clock, budget=args.spiff_budget)
            spiff, spiff_na = (measured, None) if isinstance(measured, Timing) else (None, measured)
        results[key] = CaseResult(key, model.name, model.steps, baton[key], spiff, spiff_na)

    checks = targets(results)
    if args.json:
        print(json.dumps({
            "command": "engine",
            "python": platform.python_version(),
            "spiffworkflow": spiff_version,
            "clock": args.clock,
            "method": method(args),
            "cases": [r.to_dict() for r in results.values()],
            "targets": [{"target": t.label, "verdict": t.verdict, "value": None if t.value is None else round(t.value, 3),
                         "line": t.line} for t in checks],
        }, indent=2, ensure_ascii=False))
    else:
        print(f"Baton engine vs SpiffWorkflow {spiff_version} (Python {platform.python_version()})")
        for line in method(args):
            print(f"  {line}")
        print()
        for line in render_table(list(results.values())):
            print(line)
        print()
        for target in checks:
            print(target.line)
    failed = [t for t in checks if t.verdict == "FAIL"]
    if failed:
        print(f"scripts/bench engine: {len(failed)} target(s) FAILED (a measurement: exit status stays 0)", file=sys.stderr)
    if spiff_version != SPIFF_VERSION and not args.no_spiff:
        print(f"scripts/bench engine: SpiffWorkflow is {spiff_version}, the targets are defined against {SPIFF_VERSION}",
              file=sys.stderr)
    return 0


def profile(key: str) -> int:
    """Run one case on Baton under cProfile (after a warm-up run) and print where the time goes."""
    import cProfile
    import pstats

    model = CASES[key]()
    run, outcome = baton_runner(model)
    check(model, outcome(run()))
    runs = runs_per_sample(model, DEFAULT_SAMPLE_STEPS)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    results = [run() for _ in range(runs)]
    profiler.disable()
    elapsed = time.perf_counter() - began
    for result in results:
        check(model, outcome(result))
    print(f"Baton, {model.name}: {runs} run(s) of {model.steps:,} steps under cProfile, "
          f"{elapsed / runs / model.steps * 1e6:.1f} µs/step (profiler overhead included)")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(25)
    return 0


def _root_cause(exc: BaseException) -> str:
    """The innermost exception of a chain, in one line (Spiff wraps a RecursionError in its own)."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or exc.__context__
        if inner is None or id(inner) in seen:
            break
        seen.add(id(inner))
        exc = inner
    return f"{type(exc).__name__}: {_short(str(exc).strip(), 80)}"


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"
