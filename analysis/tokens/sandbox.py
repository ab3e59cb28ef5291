"""Bounded chat-template rendering: a user's Jinja template runs in a worker process with hard limits (issue 14).

A `tokenizer_config.json` is untrusted code. jinja2's `ImmutableSandboxedEnvironment` stops attribute escapes but
not resource abuse: `{{ 'a' * 10**9 }}` allocated 32 GB and aborted `sift tokens` (and would take the Streamlit
server down with it, since the Prepare page renders in-process); nested `range(100000)` loops ran for minutes. So
every compile and render happens here, in one reusable worker subprocess (`python -m analysis.tokens.sandbox`):

- **memory**: the worker runs under `RLIMIT_AS` (`SIFT_TEMPLATE_MEMORY_MB`, default 1024 MiB above its own start-up
  size); an allocation past it is a `MemoryError` in the worker, reported, never a crash of the caller.
- **CPU**: each row (and each compile) gets `SIFT_TEMPLATE_CPU_SECONDS` (default 2 s) of CPU time. An `ITIMER_PROF`
  timer, armed once, ticks every that many CPU seconds; a row still running at two consecutive ticks is stopped with
  an exception (Python-level loops: nested `for`, recursive `loop()`), leaving the worker reusable, and no row pays
  a system call. The hard stop is `RLIMIT_CPU`, re-armed at each tick to 2x + 2 s beyond the CPU used so far: the
  kernel ends the worker (SIGXCPU) inside a C-level operation that never returns to the interpreter. CPU time, not
  wall time, so a busy machine that deschedules the worker does not fail a legitimate run.
- **wall clock**: the worker writes the row it is on and when it started into a shared page; the caller kills the
  worker when one row runs past `SIFT_TEMPLATE_WALL_SECONDS` (default 120 s: a backstop for a worker stalled
  without using CPU). The caller names the row from that page whenever the worker dies; a killed or dead worker is
  restarted on the next call.
- **template-level caps** (clear messages before anything is allocated): `range` beyond 100,000 items; `*`, `~`,
  `%` and `**` whose result would exceed the text cap, and width arguments of `center`/`indent`/`format` beyond it;
  any call or filter returning a string or list beyond it; the rendered row beyond it; macro / `loop()` recursion
  deeper than Python's stack (`RecursionError`). `+` is not intercepted (it is in every template's hot path):
  doubling a string with it meets the memory limit. The text cap is
  `MAX_TEXT` (16 Mi characters) plus twice the row's own text, so a genuinely long row still renders.

Rows travel in batches (`BATCH_ROWS` per request, `marshal`-framed over pipes: plain strings, lists and dicts, no
object construction on either side), so rendering thousands of rows pays a few round trips, not a process per row.

A refusal or overrun raises `TemplateLimitError` (a ValueError: exit 2 in the CLI, `st.error` in the app) naming
the template and, when a row triggered it, the row. A row the template itself refuses (`raise_exception`, a missing
key) is a per-row error as before.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import marshal
import math
import mmap
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

MAX_RANGE = 100_000  # items a template's range() may produce
MAX_TEXT = 16 * 1024 * 1024  # characters (or list items) any one value or rendered row may reach, plus 2x the row
MAX_POW_BITS = 65_536  # bits an integer ** may produce
BATCH_ROWS = 4096  # rows per worker request
CPU_SECONDS = float(os.environ.get("SIFT_TEMPLATE_CPU_SECONDS", "2"))
CPU_KILL_SECONDS = 2 * CPU_SECONDS + 2  # RLIMIT_CPU per row: the kernel kills a row stuck in one C-level operation
WALL_SECONDS = float(os.environ.get("SIFT_TEMPLATE_WALL_SECONDS", "120"))
_SOFT_TIMER = os.environ.get("SIFT_TEMPLATE_SOFT_TIMER", "1") != "0"  # (tests switch it off to reach RLIMIT_CPU)
MEMORY_MB = int(os.environ.get("SIFT_TEMPLATE_MEMORY_MB", "1024"))
_STATE = struct.Struct("<qd")  # (row being rendered, -1 compile, -2 idle; CLOCK_MONOTONIC when it started)
_IDLE = -2
_BULK = 4096  # offset of request/reply bytes in the shared file (the page before holds _STATE)
_COMPILE = -1
_ROW_ERRORS = ("TemplateError", "TypeError", "KeyError", "IndexError", "AttributeError", "ValueError",
               "ZeroDivisionError", "ArithmeticError", "UndefinedError", "TemplateRuntimeError")


class TemplateLimitError(ValueError):
    """A template was stopped by the sandbox (unsafe operation, resource cap, worker killed): the whole run stops.
    `row` is the position in the batch the caller gave (None for a compile-time stop)."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


# -- worker side ---------------------------------------------------------------------------------------------------

class _Stopped(Exception):
    """The caller's side of a stop: what happened, and the batch position of the row (None: not a row)."""

    def __init__(self, detail: str, row: int | None) -> None:
        super().__init__(detail)
        self.detail, self.row = detail, row


class _CpuExceeded(BaseException):
    """Raised by the SIGPROF handler; a BaseException so no `except Exception` in Jinja swallows it."""


class _Limit(Exception):
    """A template-level cap was hit (raised inside the render; reported with the row)."""


_row_cap = MAX_TEXT  # the text cap of the row being rendered (set per row)


def _sized(value: Any, what: str) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > _row_cap:
        raise _Limit(f"{what} produced {len(value):,} characters/items, over the sandbox's cap of {_row_cap:,}")
    return value


def _bounded_range(*args: Any) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise _Limit(f"range{args} has {len(rng):,} items; the sandbox allows at most {MAX_RANGE:,}")
    return rng


_WIDTH = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_binop(op: str, left: Any, right: Any) -> None:
    seqs = (str, list, tuple)
    if op == "*":
        seq, n = (left, right) if isinstance(left, seqs) else (right, left)
        if isinstance(seq, seqs) and isinstance(n, int) and len(seq) * max(n, 0) > _row_cap:
            raise _Limit(f"'*' would make {len(seq) * n:,} characters/items; the sandbox's cap is {_row_cap:,}")
    elif op == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and \
            max(abs(left).bit_length() - 1, 0) * right > MAX_POW_BITS:
        raise _Limit(f"{left} ** {right} is too large a number for the sandbox (over {MAX_POW_BITS:,} bits)")
    elif op == "%" and isinstance(left, str):
        for m in _WIDTH.finditer(left):
            if "*" in (m.group(1) or "", m.group(2) or ""):
                raise _Limit("'%' formatting with a '*' width is not allowed in the sandbox")
            if any(g and int(g) > _row_cap for g in m.groups()):
                raise _Limit(f"'%' formatting width {m.group(0)!r} is over the sandbox's cap of {_row_cap:,}")


def _environment() -> Any:
    """The bounded sandbox: jinja2's immutable sandbox with transformers' globals, intercepted size-growing
    operators, a bounded range, and every call's and filter's result size checked."""
    from jinja2 import TemplateError, nodes
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedCodeGenerator(CodeGenerator):
        """`a ~ b` compiles to a size-checked join (jinja's own `str_join` cannot be intercepted)."""

        def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
            self.write("environment.bounded_concat((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class GenerationTag(Extension):
        """`{% generation %}…{% endgeneration %}` (transformers marks assistant spans with it): renders its body."""

        tags = {"generation"}

        def parse(self, parser: Any) -> nodes.Node:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        @staticmethod
        def _body(caller: Any) -> str:
            return caller()

    class BoundedEnvironment(ImmutableSandboxedEnvironment):
        # `+` is left alone: it is in every template's hot path, and doubling with it meets the memory limit.
        intercepted_binops = frozenset({"*", "%", "**"})  # (also keeps them out of compile-time folding)
        code_generator_class = BoundedCodeGenerator

        @staticmethod
        def bounded_concat(parts: Sequence[Any]) -> str:
            texts = [str(p) for p in parts]
            if sum(map(len, texts)) > _row_cap:
                raise _Limit(f"'~' would make {sum(map(len, texts)):,} characters; the sandbox's cap is "
                             f"{_row_cap:,}")
            return "".join(texts)

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            if wrapped is not None:
                for width in re.findall(r"\{[^{}]*?[:][^{}]*?(\d+)", value.__self__):
                    if int(width) > _row_cap:
                        raise _Limit(f"a format() width of {int(width):,} is over the sandbox's cap of "
                                     f"{_row_cap:,}")
            return wrapped

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _check_binop(operator, left, right)
            return _sized(super().call_binop(context, operator, left, right), f"'{operator}'")

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            return _sized(super().call(__context, __obj, *args, **kwargs),
                          f"{getattr(__obj, '__name__', 'a call')}()")

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
               sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = BoundedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson

    def bounded(name: str, func: Any) -> Any:
        @wraps(func)  # (keeps jinja's pass_context / pass_eval_context markers)
        def filtered(*args: Any, **kwargs: Any) -> Any:
            if name in ("center", "indent", "truncate", "wordwrap"):
                for v in [*args[1:], *kwargs.values()]:
                    if isinstance(v, int) and not isinstance(v, bool) and v > _row_cap:
                        raise _Limit(f"the {name} filter's width {v:,} is over the sandbox's cap of {_row_cap:,}")
            return _sized(func(*args, **kwargs), f"the {name} filter")
        return filtered

    env.filters = {name: bounded(name, f) for name, f in env.filters.items()}
    env.globals["range"] = _bounded_range
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


@lru_cache(maxsize=16)
def _compiled(source: str) -> Any:
    return _environment().from_string(source)


_progress = 0  # bumped when a row (or a compile) starts
_ticked = -1  # _progress at the previous SIGPROF tick
_busy = False  # a row or a compile is running (not the framing between requests)


def _arm_cpu_limit() -> None:
    """RLIMIT_CPU at CPU_KILL_SECONDS beyond the CPU used so far: the kernel's stop (SIGXCPU ends the worker),
    which no single C-level operation can dodge. Re-armed only while rows make progress."""
    import resource

    used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(used + CPU_KILL_SECONDS), resource.RLIM_INFINITY))


def _on_sigprof(signum: int, frame: Any) -> None:
    """A tick every CPU_SECONDS of the worker's CPU time (ITIMER_PROF, armed once: no syscall per row). The same
    row running at two consecutive ticks has had at least CPU_SECONDS: stop it (a catchable exception, so the
    worker stays usable). Otherwise re-arm the hard limit."""
    global _ticked
    if _busy and _progress == _ticked:
        if _SOFT_TIMER:
            _ticked = -1
            raise _CpuExceeded()
        return  # (soft stop switched off: leave the hard limit armed, it will end the worker)
    _ticked = _progress
    _arm_cpu_limit()


def _what(exc: BaseException) -> str:
    if isinstance(exc, _CpuExceeded):
        return (f"it ran longer than {CPU_SECONDS:g} s of CPU time (nested loops or recursion?); raise "
                "SIFT_TEMPLATE_CPU_SECONDS if this template is genuinely slow")
    if isinstance(exc, MemoryError):
        return (f"it needed more than the sandbox's {MEMORY_MB:,} MiB of memory; raise SIFT_TEMPLATE_MEMORY_MB if "
                "this row is genuinely that large")
    if isinstance(exc, RecursionError):
        return ("it recursed too deeply (a macro or a recursive loop() calling itself without end, or blocks nested "
                "hundreds deep?)")
    if type(exc).__name__ == "SecurityError":
        return f"it tried an unsafe operation and was stopped by the sandbox: {exc}"
    if isinstance(exc, _Limit):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _fatal(exc: BaseException) -> bool:
    if isinstance(exc, (_CpuExceeded, MemoryError, RecursionError, _Limit)) or \
            type(exc).__name__ == "SecurityError":
        return True
    return not any(c.__name__ in _ROW_ERRORS for c in type(exc).__mro__)


class _Worker:
    def __init__(self, state: mmap.mmap) -> None:
        self.state = state

    def mark(self, row: int) -> None:
        _STATE.pack_into(self.state, 0, row, time.monotonic())

    def timed(self, fn: Any, *args: Any) -> Any:
        """`fn(*args)` as one unit of progress for the CPU ticks (`_on_sigprof`)."""
        global _progress, _busy
        _progress += 1
        _busy = True
        try:
            return fn(*args)
        finally:
            _busy = False

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        global _row_cap
        _row_cap = MAX_TEXT
        self.mark(_COMPILE)
        try:
            compiled = self.timed(_compiled, req["source"])
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message for the caller
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return {"fatal": _what(exc) if _fatal(exc) else str(exc),
                    "row": None, "compile": True}
        if req.get("rows") is None:
            return {"ok": True}
        variables = req["variables"]
        texts: list[str] = []
        errors: list[str] = []
        for i, messages in enumerate(req["rows"]):
            self.mark(i)
            _row_cap = MAX_TEXT + 2 * sum(len(v) for t in messages for v in t.values())
            try:
                text = self.timed(self.render, compiled, messages, req["add_generation_prompt"], variables)
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                if _fatal(exc):
                    return {"fatal": _what(exc), "row": i}
                texts.append("")
                errors.append(str(exc) or type(exc).__name__)
                continue
            texts.append(text)
            errors.append("")
        self.mark(_IDLE)
        return {"texts": texts, "errors": errors}

    @staticmethod
    def render(compiled: Any, messages: list[dict[str, str]], add_generation_prompt: bool,
               variables: dict[str, str]) -> str:
        text = compiled.render(messages=messages, add_generation_prompt=add_generation_prompt, **variables)
        if len(text) > _row_cap:  # (many pieces each under the cap; the memory limit bounds the way there)
            raise _Limit(f"the rendered row has {len(text):,} characters, over the sandbox's cap of {_row_cap:,}")
        return text


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _send(pipe: int, bulk: int, payload: bytes) -> None:
    """Bytes go through the shared file (page cache, one copy), only their length through the pipe: a pipe moves
    64 KiB per wake-up, and on a loaded machine each wake-up of the other process can cost a time slice."""
    view, at = memoryview(payload), _BULK
    while view:
        n = os.pwrite(bulk, view, at)
        view, at = view[n:], at + n
    _write_all(pipe, struct.pack("<Q", len(payload)))


def _receive(pipe: int, bulk: int) -> bytes:
    size = struct.unpack("<Q", _read_exact(pipe, 8))[0]
    chunks, got = [], 0
    while got < size:
        chunk = os.pread(bulk, size - got, _BULK + got)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _serve(state_fd: int) -> None:  # pragma: no cover - runs in the worker process (exercised by the tests)
    """The worker's loop: set the limits, then answer framed requests on stdin until it closes."""
    import resource

    proto_in, proto_out = sys.stdin.buffer.fileno(), os.dup(sys.stdout.buffer.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the protocol
    import faulthandler

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <worker>` prints where a stuck render is
    state = mmap.mmap(state_fd, _STATE.size)
    worker = _Worker(state)
    _compiled("")  # import and build the environment before the memory limit counts from here
    signal.signal(signal.SIGPROF, _on_sigprof)
    _arm_cpu_limit()
    signal.setitimer(signal.ITIMER_PROF, CPU_SECONDS, CPU_SECONDS)
    base = _vm_size()
    if base is not None and MEMORY_MB > 0:
        limit = base + MEMORY_MB * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):  # not enforced everywhere (macOS): the other bounds remain
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.setrecursionlimit(1000)
    worker.mark(_IDLE)
    _write_all(proto_out, b"R")
    while True:
        try:
            req = marshal.loads(_receive(proto_in, state_fd))
        except EOFError:
            return
        try:
            reply = worker.handle(req)
            payload = marshal.dumps(reply)
        except MemoryError:
            payload = marshal.dumps({"fatal": _what(MemoryError()), "row": None})
        _send(proto_out, state_fd, payload)


def _vm_size() -> int | None:
    """The process's virtual size now (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


# -- caller side ---------------------------------------------------------------------------------------------------

class TemplateWorker:
    """A handle on the worker process: started on first use, reused across calls, restarted after a kill."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._state: mmap.mmap | None = None
        self._lock = threading.Lock()
        self._checked: set[str] = set()
        self._file: Any = None
        self._pid = os.getpid()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self.close()
        fh = tempfile.TemporaryFile()  # noqa: SIM115 - lives with the worker; page at 0, request/reply at _BULK
        fh.truncate(_STATE.size)
        self._file = fh
        self._state = mmap.mmap(fh.fileno(), _STATE.size)
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        proc = subprocess.Popen([sys.executable, "-m", "analysis.tokens.sandbox", str(fh.fileno())],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(fh.fileno(),),
                                env=env, cwd=root, start_new_session=True)
        self._proc = proc
        _STATE.pack_into(self._state, 0, _COMPILE, time.monotonic())  # start-up counts as the first step
        if self._wait_readable(proc, 60.0) and os.read(proc.stdout.fileno(), 1) == b"R":  # type: ignore[union-attr]
            return proc
        self._kill()
        raise _Stopped("the template sandbox worker failed to start", None)

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def close(self) -> None:
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
            self._kill()
            self._proc = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def _wait_readable(self, proc: subprocess.Popen[bytes], wall: float) -> bool:
        """Wait for the worker's answer, killing it when one row (or the compile) stays in progress for `wall`
        seconds. Judged on this side's clock by how long the shared page shows the *same* (row, start) pair, so
        a half-written page (the worker writes while we read) can never look stale."""
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        seen, since = None, time.monotonic()
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                return True
            if proc.poll() is not None:
                return True  # the read sees EOF
            state = _STATE.unpack_from(self._state, 0)  # type: ignore[arg-type]
            now = time.monotonic()
            if state != seen:
                seen, since = state, now
                continue
            row = state[0]
            if row != _IDLE and now - since > wall:
                self._kill()
                raise _Stopped(f"stopped after {wall:g} s of wall-clock time (a single operation that never "
                               "returned); raise SIFT_TEMPLATE_WALL_SECONDS if this is genuine",
                               row if row >= 0 else None)

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        """One framed round trip; a stop (kill, death) raises _Stopped."""
        if self._pid != os.getpid():  # a forked child must not share its parent's worker, pipes, page or lock
            self._proc, self._file, self._state, self._pid = None, None, None, os.getpid()
            self._lock = threading.Lock()
        with self._lock:
            proc = self._start()
            payload = marshal.dumps(req)
            try:
                _send(proc.stdin.fileno(), self._file.fileno(), payload)  # type: ignore[union-attr]
                self._wait_readable(proc, WALL_SECONDS)
                fd = proc.stdout.fileno()  # type: ignore[union-attr]
                return marshal.loads(_receive(fd, self._file.fileno()))
            except (EOFError, BrokenPipeError, OSError) as exc:
                row, _ = _STATE.unpack_from(self._state, 0)  # type: ignore[arg-type]
                code = proc.wait()
                self.close()
                if code == -signal.SIGXCPU:
                    detail = (f"it ran past the hard limit of {CPU_KILL_SECONDS:g} s of CPU time inside one "
                              "operation, and the sandbox worker was stopped")
                else:
                    how = f"was killed by signal {-code}" if code < 0 else f"exited ({code})"
                    detail = f"the sandbox worker {how}: the template exceeded its memory or CPU limits"
                raise _Stopped(detail, row if row >= 0 else None) from exc
            except _Stopped:
                self.close()
                raise

    def compile(self, source: str, name: str) -> None:
        """Compile under the limits (Jinja folds constant expressions while compiling): a ValueError naming the
        template for a syntax error or an overrun."""
        if source in self._checked:
            return
        try:
            reply = self.request({"source": source, "rows": None})
        except _Stopped as exc:
            raise TemplateLimitError(f"template {name}: {exc.detail}") from exc
        if "fatal" in reply:
            raise TemplateLimitError(f"template {name}: {reply['fatal']}")
        self._checked.add(source)

    def render(self, source: str, name: str, rows: Sequence[list[dict[str, str]]], variables: dict[str, str],
               add_generation_prompt: bool = False,
               labels: Sequence[Any] | None = None) -> tuple[list[str], list[str]]:
        """Render `rows` in batches: (texts, per-row errors). A sandbox stop raises TemplateLimitError naming the
        template and the row (`labels[i]`, e.g. the row id; else the position)."""
        texts: list[str] = []
        errors: list[str] = []
        for lo in range(0, len(rows), BATCH_ROWS):
            try:
                reply = self.request({"source": source, "rows": list(rows[lo:lo + BATCH_ROWS]),
                                      "variables": variables, "add_generation_prompt": add_generation_prompt})
            except _Stopped as exc:
                reply = {"fatal": exc.detail, "row": exc.row}
            if "fatal" in reply:
                row = reply.get("row")
                where = "" if row is None else \
                    f" on row {labels[lo + row] if labels is not None else lo + row}"
                raise TemplateLimitError(f"template {name}{where}: {reply['fatal']}",
                                         None if row is None else lo + row)
            texts.extend(reply["texts"])
            errors.extend(reply["errors"])
        return texts, errors


_WORKER = TemplateWorker()
atexit.register(_WORKER.close)


def worker() -> TemplateWorker:
    """The process's shared worker (one per process; calls are serialised)."""
    return _WORKER


if __name__ == "__main__":  # pragma: no cover
    _serve(int(sys.argv[1]))
