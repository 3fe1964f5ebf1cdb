"""Time and memory limits around one evaluation of sandboxed code.

The size guards in `guards.py` refuse to build oversized values before building them; this
module is what stops everything else: loops that never end, and allocations the guards
cannot foresee. It is process-level machinery (signals, rlimits) and therefore only touches
it from the main thread, where Celery's prefork pool runs tasks; other threads get a
tracing-based time limit and no address-space backstop, because an rlimit is process-wide
and two threads lowering and restoring it would race.
"""
from __future__ import annotations

import os
import sys
import threading
import weakref
from dataclasses import dataclass
from time import monotonic
from types import CodeType, FrameType
from typing import Any, Callable

try:  # the C module: `signal.signal` wraps it in enum conversions costing ~3 µs a call
    import _signal as _sig
except ImportError:  # pragma: no cover - every CPython has it
    import signal as _sig  # type: ignore[no-redef]

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

#: Filename of every code object compiled from a script or expression. The limits use it
#: to recognise sandboxed frames, errors use it to find the script's line number.
SCRIPT_FILENAME = "<baton-script>"

_HAS_ALARM = hasattr(_sig, "setitimer") and hasattr(_sig, "SIGALRM")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class SandboxLimits:
    """Bounds on one evaluation (one script run or one expression evaluation).

    `max_int_bits` applies to the results of `**`, `<<`, `*` between integers and the
    integer functions of `math` (factorial, comb, perm, prod, lcm): all the ways a short
    script grows an integer exponentially. `memory_headroom` is a backstop for the
    allocations the size guards cannot predict; it is only applied in the main thread.
    """

    time_limit: float = 5.0
    max_sequence_length: int = 10_000_000
    max_int_bits: int = 100_000
    memory_headroom: int | None = 512 * 1024 * 1024

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError("time_limit must be a positive number of seconds")
        if self.max_sequence_length < 1 or self.max_int_bits < 1:
            raise ValueError("max_sequence_length and max_int_bits must be positive")
        if self.memory_headroom is not None and self.memory_headroom < 1:
            raise ValueError("memory_headroom must be positive or None")


class Abort(BaseException):
    """Ends an evaluation from inside it.

    A BaseException, so that a script's `except Exception:` cannot swallow it; bare
    `except:` clauses and `finally:` blocks re-raise it via the injected handler guard.
    """


class TimeLimitExceeded(Abort):
    """The evaluation ran past its time limit."""


class MemoryExhausted(Abort):
    """A MemoryError (the address-space backstop) that a script tried to catch."""


class SizeLimitExceeded(Abort):
    """The evaluation tried to build a value larger than the limits allow."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    """SIGALRM handler: abort the evaluation, unless we are in our own arming code.

    Raising inside `Watchdog._execute_with_alarm` itself (between arming and disarming)
    could skip the restoring of the previous handler, timer or rlimit. The timer repeats,
    so a skipped tick is followed by another one inside the script.
    """
    if frame is not None and frame.f_code.co_filename == _THIS_FILE:
        return
    raise TimeLimitExceeded()


def _prlimit(which: int, limits: tuple[int, int]) -> tuple[int, int]:
    """Set an rlimit and return the old one: one syscall where Linux offers prlimit."""
    if hasattr(resource, "prlimit"):
        return resource.prlimit(0, which, limits)  # type: ignore[no-any-return]
    old = resource.getrlimit(which)  # pragma: no cover - non-Linux
    resource.setrlimit(which, limits)  # pragma: no cover
    return old  # pragma: no cover


def _close_fd(holder: list[int]) -> None:
    if holder[1] >= 0:
        try:
            os.close(holder[1])
        except OSError:  # pragma: no cover
            pass
        holder[1] = -1


class Watchdog:
    """Runs a code object under the time limit and the address-space backstop.

    Holds no per-evaluation state, so one instance serves every thread; the only cached
    things are an open /proc/self/statm descriptor (one pread costs ~1 µs, an open ~5 µs)
    and the hard RLIMIT_AS, both only touched from the main thread.
    """

    def __init__(self, limits: SandboxLimits) -> None:
        self._time_limit = float(limits.time_limit)
        self._interval = min(0.05, max(self._time_limit / 10, 0.001))
        self._headroom = limits.memory_headroom if resource is not None else None
        self._statm = [-1, -1]  # [pid, fd]
        self._hard_limit: int | None = None
        weakref.finalize(self, _close_fd, self._statm)

    def execute(self, code: CodeType, namespace: dict[str, Any]) -> Any:
        """Evaluate `code` in `namespace` (exec-mode code returns None)."""
        if _HAS_ALARM:
            previous = _sig.getsignal(_sig.SIGALRM)
            # None: a handler installed outside Python, which we could not put back.
            if previous is not None and threading.current_thread() is threading.main_thread():
                return self._execute_with_alarm(code, namespace, previous)
        return self._execute_traced(code, namespace)

    def _execute_with_alarm(self, code: CodeType, namespace: dict[str, Any], previous: Any) -> Any:
        old_timer: tuple[float, float] = (0.0, 0.0)
        _sig.signal(_sig.SIGALRM, _on_alarm)
        try:
            old_timer = _sig.setitimer(_sig.ITIMER_REAL, self._time_limit, self._interval)
            started = monotonic() if old_timer[0] else 0.0
            old_limit = self._lower_address_space()
            try:
                return eval(code, namespace)
            finally:
                _sig.setitimer(_sig.ITIMER_REAL, 0.0)
                if old_limit is not None:
                    resource.setrlimit(resource.RLIMIT_AS, old_limit)
        finally:
            _sig.signal(_sig.SIGALRM, previous)
            if old_timer[0]:
                # Someone else's alarm was pending: put it back, shortened by our run (if it
                # would have fired meanwhile, fire it now).
                remaining = max(old_timer[0] - (monotonic() - started), 1e-6)
                _sig.setitimer(_sig.ITIMER_REAL, remaining, old_timer[1])

    def _execute_traced(self, code: CodeType, namespace: dict[str, Any]) -> Any:
        """Time limit for threads other than the main one, where SIGALRM cannot be used.

        CPython drops a trace function that raises; the handler guards injected into
        `except`/`finally` blocks keep re-raising the abort, so it still reaches the top.
        """
        deadline = monotonic() + self._time_limit

        def tracer(frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
            if monotonic() > deadline:
                raise TimeLimitExceeded()
            return tracer if frame.f_code.co_filename == SCRIPT_FILENAME else None

        previous = sys.gettrace()
        sys.settrace(tracer)
        try:
            return eval(code, namespace)
        finally:
            sys.settrace(previous)

    def _lower_address_space(self) -> tuple[int, int] | None:
        """Lower RLIMIT_AS to current size + headroom; return the limits to restore."""
        if self._headroom is None:
            return None
        size = self._address_space()
        if size is None:
            return None
        target = size + self._headroom
        hard = self._hard_limit
        if hard is None:
            hard = self._hard_limit = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY and target >= hard:
            return None
        try:
            old = _prlimit(resource.RLIMIT_AS, (target, hard))
        except (ValueError, OSError):  # the hard limit was lowered since we cached it
            self._hard_limit = None
            return None
        if old[0] != resource.RLIM_INFINITY and old[0] < target:
            resource.setrlimit(resource.RLIMIT_AS, old)  # already tighter than ours: keep it
            return None
        return old

    def _address_space(self) -> int | None:
        """Current virtual memory size in bytes (the quantity RLIMIT_AS bounds)."""
        holder = self._statm
        pid = os.getpid()
        if holder[0] != pid:  # first use, or we are a forked child holding the parent's file
            _close_fd(holder)
            try:
                holder[1] = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._headroom = None  # no /proc: no backstop, the size guards remain
                return None
            holder[0] = pid
        data = os.pread(holder[1], 64, 0)
        return int(data[: data.index(b" ")]) * _PAGE_SIZE


_THIS_FILE = Watchdog._execute_with_alarm.__code__.co_filename
