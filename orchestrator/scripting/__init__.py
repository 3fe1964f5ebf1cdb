"""The script sandbox: process authors' Python, run by RestrictedPython within limits.

How the engine uses it::

    sandbox = Sandbox(SandboxLimits(time_limit=5.0))               # once per worker
    script = sandbox.compile_script(source, element_id="Task_1")   # once per definition
    result = sandbox.run_script(script, variables)                 # every step
    result.set, result.deleted                                     # what to store
    sandbox.evaluate(sandbox.compile_expression("x > 1"), variables)

Every failure is an `orchestrator.errors.ScriptError` naming the element, with the script
line where known ("line 3: name 'x' is not defined"); `ScriptTimeout` and
`ScriptMemoryError` are its subclasses for the limits.

What scripts get (builtins.py, attributes.py): variables as global names (deep copies, so
the caller's objects never change), the basic builtins, `math` (its public members only),
`datetime`, `date`, `time`, `timedelta`, `timezone`, `Decimal`, `json_dumps`, `json_loads`
and common exception classes. Attributes are an allow-list per type: data methods only.

Decisions worth knowing:

* `print()` works and is collected, at most 64 KiB, into `ScriptResult.output`, which
  takes no part in equality; the engine may log it or ignore it. Not in expressions.
* No `bytes`/`bytearray`, no `import`, no `class`, no `with`, no attribute assignment, no
  `str.format`/`format_map` (f-strings do the same job without attribute traversal), no
  `iter(callable, sentinel)`, `sum()` of numbers only.
* `d[k] += 1` works (RestrictedPython refuses it); slice assignment only as `l[a:b] = v`.
* Scripts raise only `Exception` subclasses; time and size aborts, KeyboardInterrupt and
  SystemExit cannot be caught by a script, not even by a bare `except:`.
* Values that are not data (functions, lambdas, classes, modules, generators, iterators,
  exceptions) never appear in `ScriptResult.set`; containers and sets do, and the engine
  refuses what it cannot store.

What an in-process sandbox cannot promise: the time limit is checked between bytecodes,
so one long C-level operation runs to its end. The size guards bound most of them, but
not all: comparing or hashing two self-similar nested structures (`a = [a, a]` repeated)
is exponential in C. Celery's hard task time limit (CELERY_TASK_TIME_LIMIT) is the final
backstop. SIGALRM and the RLIMIT_AS backstop are only used in the main thread (Celery's
prefork pool); elsewhere the time limit uses `sys.settrace` and memory relies on the
size guards alone.
"""
from .limits import SandboxLimits
from .sandbox import CompiledExpression, CompiledScript, Sandbox, ScriptResult

__all__ = ["CompiledExpression", "CompiledScript", "Sandbox", "SandboxLimits", "ScriptResult"]
