"""Hostile chat templates (issue 14, fault injection): every abuse the Jinja sandbox used to let through — huge
`*`, string doubling, `range(10**9)`, nested loops, macro recursion, memory bombs, a hung operation — is stopped
by the bounded worker with one clear message naming the template (and row), within seconds, while the calling
process lives on and the next render works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.tokens.sandbox import MAX_TEXT, TemplateLimitError, worker
from analysis.tokens.templates import ChatTemplate, load_template, render, render_rows

ROOT = Path(__file__).resolve().parents[2]
ROWS = [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]] * 3

HOSTILE = {
    "string_times_billion": ("{{ 'a' * 10**9 }}", r"'\*' would make 1,000,000,000"),
    "list_times_billion": ("{{ ([1] * 10**9) | length }}", r"'\*' would make"),
    "content_times": ("{% for m in messages %}{{ m['content'] * 100000000 }}{% endfor %}", r"'\*' would make"),
    "range_billion": ("{% for i in range(10**9) %}{% endfor %}", r"range\(1000000000,\) has 1,000,000,000 items"),
    "nested_loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                     r"longer than .* s of CPU time"),
    "macro_recursion": ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursed too deeply"),
    "loop_recursion": ("{% for m in [[1]] recursive %}{{ loop([m]) }}{% endfor %}", "recursed too deeply"),
    "tilde_doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                       "{% endfor %}{{ ns.s }}", r"'~' would make"),
    "plus_doubling": ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                      "{% endfor %}{{ ns.s }}", "MiB of memory"),
    "center_width": ("{{ 'a' | center(1000000000) }}", "center filter's width"),
    "format_width": ("{{ '{:>1000000000}'.format('a') }}", "format\\(\\) width"),
    "percent_width": ("{{ '%1000000000s' % 'a' }}", "'%' formatting width"),
    "huge_power": ("{{ 2 ** 100000000 }}", "too large a number"),
    "unsafe_attribute": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe operation"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_template_is_one_clear_error_and_the_worker_recovers(name: str) -> None:
    source, message = HOSTILE[name]
    template = ChatTemplate(f"/hostile/{name}.jinja", source)
    start = time.monotonic()
    with pytest.raises(TemplateLimitError, match=rf"template /hostile/{name}\.jinja on row 42: .*{message}") as info:
        render_rows(ROWS, template, row_ids=[42, 43, 44])
    assert time.monotonic() - start < 30  # 2 s of CPU at most per row; the machine is shared
    assert info.value.row == 0 and "\n" not in str(info.value)
    assert render(ROWS[0], "chatml").startswith("<|im_start|>user\nhi<|im_end|>")  # the next render works


def test_a_compile_time_bomb_is_stopped_in_the_worker(tmp_path: Path) -> None:
    """Jinja folds constant expressions while compiling, so `load_template` itself must be bounded."""
    config = tmp_path / "tokenizer_config.json"
    config.write_text(json.dumps({"chat_template": "{{ 'a' * 10**9 }}{{ 'x' | center(10**10) }}"}))
    template = load_template(str(config))  # nothing is folded (the operators are intercepted) …
    with pytest.raises(TemplateLimitError, match=rf"template {config.resolve()} on row 0"):
        render_rows(ROWS, template)  # … and the render is refused


def test_a_genuinely_long_row_still_renders() -> None:
    """The text cap grows with the row: a 20-million-character turn is not mistaken for an attack."""
    long = [{"role": "user", "content": "x" * (MAX_TEXT + 4_000_000)}]
    texts, errors = render_rows([long], load_template("chatml"))
    assert errors == [""] and len(texts[0]) == MAX_TEXT + 4_000_000 + len("<|im_start|>user\n<|im_end|>\n")


def test_rows_are_batched_in_one_reused_worker() -> None:
    """Thousands of rows pay a few round trips, not a process per row; the same worker serves every call."""
    rows = [[{"role": "user", "content": f"question {i}"}] for i in range(10_000)]
    render_rows(rows[:1], load_template("chatml"))
    pid = worker()._proc.pid  # type: ignore[union-attr]
    texts, errors = render_rows(rows, load_template("llama3"))
    assert len(texts) == 10_000 and not any(errors) and texts[9_999].endswith("question 9999<|eot_id|>")
    assert worker()._proc.pid == pid  # type: ignore[union-attr]


def test_a_worker_killed_from_outside_is_reported_then_replaced() -> None:
    template = ChatTemplate("/hostile/slow.jinja",
                            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
    render_rows(ROWS[:1], load_template("chatml"))
    proc = worker()._proc
    assert proc is not None
    import threading

    def kill_soon() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait until the worker is inside the row, then kill it
            from analysis.tokens.sandbox import _STATE  # noqa: PLC0415 - test-only peek at the shared page

            if _STATE.unpack_from(worker()._state, 0)[0] == 0:  # type: ignore[arg-type]
                proc.kill()
                return
            time.sleep(0.01)

    threading.Thread(target=kill_soon, daemon=True).start()
    with pytest.raises(TemplateLimitError, match=r"slow\.jinja on row 7: the sandbox worker was killed by signal 9"):
        render_rows(ROWS[:1], template, row_ids=[7])
    assert render(ROWS[0], "chatml").startswith("<|im_start|>user")


def _sift(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def _data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                     {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                            for i in range(5)))
    return path


@pytest.mark.parametrize("name", ["string_times_billion", "macro_recursion"])
def test_cli_exits_2_with_one_line_naming_the_file_and_row(tmp_path: Path, name: str) -> None:
    config = tmp_path / "tok" / "tokenizer_config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"chat_template": HOSTILE[name][0]}))
    start = time.monotonic()
    done = _sift("tokens", str(_data(tmp_path)), "--template", str(config),
                 env={"SIFT_HOME": str(tmp_path / "home")})
    assert time.monotonic() - start < 60
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"sift tokens: error: template {config.resolve()} on row 0: ")
    assert "row 0" in done.stderr


def test_cli_memory_limit_stops_a_memory_bomb(tmp_path: Path) -> None:
    """Many values each under the text cap: only the worker's RLIMIT_AS stops it (a MemoryError in the worker, not
    an abort of the caller). A 200 MiB limit keeps the test quick; the default is 1,024 MiB."""
    config = tmp_path / "bomb.jinja"
    config.write_text("{% set ns = namespace(l=[]) %}{% for i in range(1000) %}"
                      "{% set ns.l = ns.l + ['x' * 16000000] %}{% endfor %}{{ ns.l | length }}")
    done = _sift("tokens", str(_data(tmp_path)), "--template", str(config),
                 env={"SIFT_HOME": str(tmp_path / "home"), "SIFT_TEMPLATE_MEMORY_MB": "200"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"template {config.resolve()} on row 0: it needed more than the sandbox's 200 MiB of memory" in done.stderr


def test_cli_hard_cpu_limit_ends_the_worker(tmp_path: Path) -> None:
    """RLIMIT_CPU is the kernel's stop for a row the SIGPROF timer cannot interrupt (one long C-level call): with
    the timer switched off, the worker is ended by SIGXCPU after 2x + 2 s of CPU and the row is still named."""
    config = tmp_path / "slow.jinja"
    config.write_text(HOSTILE["nested_loops"][0])
    done = _sift("tokens", str(_data(tmp_path)), "--template", str(config),
                 env={"SIFT_HOME": str(tmp_path / "home"), "SIFT_TEMPLATE_CPU_SECONDS": "0.5",
                      "SIFT_TEMPLATE_SOFT_TIMER": "0"})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"template {config.resolve()} on row 0: it ran past the hard limit of 3 s of CPU time" in done.stderr


def test_cli_wall_clock_limit_kills_a_hung_worker(tmp_path: Path) -> None:
    """With the CPU timer out of the way, the caller's wall-clock watchdog still stops the row (the hard stop
    for one C-level operation that never returns to the interpreter)."""
    config = tmp_path / "slow.jinja"
    config.write_text(HOSTILE["nested_loops"][0])
    done = _sift("tokens", str(_data(tmp_path)), "--template", str(config),
                 env={"SIFT_HOME": str(tmp_path / "home"), "SIFT_TEMPLATE_CPU_SECONDS": "600",
                      "SIFT_TEMPLATE_WALL_SECONDS": "1.5"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"template {config.resolve()} on row 0: stopped after 1.5 s of wall-clock time" in done.stderr


def test_a_forked_child_gets_its_own_worker() -> None:
    """A fork (multiprocessing, Ray) must not talk to its parent's worker through the inherited pipes."""
    render(ROWS[0], "chatml")
    parent_worker = worker()._proc
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            ok = render(ROWS[0], "llama3").startswith("<|begin_of_text|>") and worker()._proc is not parent_worker
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert worker()._proc is parent_worker and render(ROWS[0], "chatml").startswith("<|im_start|>")


@pytest.mark.parametrize("source", ["{% if 1 %}" * 300 + "x" + "{% endif %}" * 300,
                                    "{{ " + "(" * 100_000 + "1" + ")" * 100_000 + " }}"])
def test_a_template_nested_too_deeply_is_refused_when_loaded(tmp_path: Path, source: str) -> None:
    """Compiling is bounded too: a deeply nested source is one clear error from load_template, in the worker."""
    path = tmp_path / "deep.jinja"
    path.write_text(source)
    with pytest.raises(TemplateLimitError, match=rf"template {path.resolve()}: it recursed too deeply"):
        load_template(str(path))
    assert render(ROWS[0], "chatml").startswith("<|im_start|>")
