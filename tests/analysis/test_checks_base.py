"""The check framework: uniform results, the registry, parameter validation and the workspace cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.checks import REGISTRY, Check, CheckContext, latest_results, make_result, register, run_checks


@dataclass(frozen=True)
class _LenParams:
    max_chars: int = 5


class _TooLong(Check):
    name = "_test_too_long"
    Params = _LenParams
    calls = 0

    def run(self, ctx: CheckContext):  # noqa: ANN201
        type(self).calls += 1
        lengths = np.array([len(r) for r in ctx.responses])
        return self.result(ctx, score=lengths / 100, reason=["too_long" if n > self.params.max_chars else ""
                                                             for n in lengths])


@pytest.fixture
def too_long():
    register(_TooLong)
    _TooLong.calls = 0
    yield _TooLong
    REGISTRY.pop(_TooLong.name, None)


def _rows(responses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"row_id": range(len(responses)), "prompt": ["q"] * len(responses), "response": responses,
                         "messages": [[{"role": "user", "content": "q", "tool_call": False},
                                       {"role": "assistant", "content": r, "tool_call": False}] for r in responses],
                         "source": ["{}"] * len(responses)})


def test_make_result_fills_defaults_and_summary() -> None:
    r = make_result("x", 4, {"a": 1}, reason=["", "b", "c", "b"])
    assert r.is_issue.tolist() == [False, True, True, True]
    assert r.score.tolist() == [0.0, 1.0, 1.0, 1.0]
    assert r.summary["rows_flagged"] == 3 and r.summary["reasons"] == {"b": 2, "c": 1}
    assert r.summary["rows_removable"] == 3 and r.summary["groups"] == 0
    with pytest.raises(ValueError, match="must all have 3 entries"):
        make_result("x", 3, {}, reason=["", ""])


def test_group_results_count_removable_without_the_kept_member() -> None:
    keep = np.array([True, False, False, True, False])
    r = make_result("dup", 5, {}, is_issue=np.array([False, True, True, False, True]),
                    reason=["", "dup_of:0", "dup_of:0", "", "dup_of:3"], group_id=np.array([0, 0, 0, 1, 1]), keep=keep)
    assert r.summary["groups"] == 2 and r.summary["rows_removable"] == 3
    assert r.removable().tolist() == [False, True, True, False, True]


def test_registry_runs_and_caches_by_parameters(too_long, tmp_path: Path) -> None:
    rows = _rows(["short", "a much longer answer", "ok"])
    out = run_checks(rows, ["_test_too_long"], ws_dir=tmp_path)
    assert out["_test_too_long"].is_issue.tolist() == [False, True, False]
    assert too_long.calls == 1
    again = run_checks(rows, ["_test_too_long"], ws_dir=tmp_path)
    assert too_long.calls == 1 and again["_test_too_long"].reason.tolist() == ["", "too_long", ""]
    changed = run_checks(rows, ["_test_too_long"], ws_dir=tmp_path, params={"_test_too_long": {"max_chars": 1}})
    assert too_long.calls == 2 and changed["_test_too_long"].rows_flagged == 3
    latest = latest_results(tmp_path)
    assert latest["_test_too_long"]["params"] == {"max_chars": 1}
    # other rows (a new file version) never reuse a cached result
    run_checks(_rows(["short", "another long answer here"]), ["_test_too_long"], ws_dir=tmp_path)
    assert too_long.calls == 3


def test_unknown_checks_and_parameters_are_clear_errors(too_long) -> None:
    rows = _rows(["a"])
    with pytest.raises(ValueError, match=r"unknown check\(s\) nope; available: .*_test_too_long"):
        run_checks(rows, ["nope"])
    with pytest.raises(ValueError, match=r"check _test_too_long: unknown parameter\(s\) max; parameters are max_chars"):
        run_checks(rows, ["_test_too_long"], params={"_test_too_long": {"max": 3}})


def test_context_scopes() -> None:
    ctx = CheckContext(_rows(["r1"]))
    assert ctx.texts("prompt") == ["q"] and ctx.texts("response") == ["r1"] and ctx.texts("both") == ["q\nr1"]
    assert ctx.texts("record") == ["{}"]
    with pytest.raises(ValueError, match="unknown scope"):
        ctx.texts("nope")


def test_track_is_free_without_a_sink_and_yields_everything_with_one() -> None:
    ctx = CheckContext(_rows(["a"] * 3))
    items = list(range(10_000))
    assert ctx.track(items) is items  # no sink: the very same object, no wrapper in the loop
    seen: list[tuple[int, int | None, str | None]] = []
    ctx.progress_sink = lambda done, total, label: seen.append((done, total, label))
    assert list(ctx.track(items, label="pairs")) == items
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == 10_000
    assert 50 <= len(seen) <= 102  # ~every 1%, never per item
    assert {(t, lab) for _, t, lab in seen} == {(10_000, "pairs")}
    seen.clear()
    assert list(ctx.track(x for x in items)) == items  # a generator: no total, counted all the same
    assert seen[0] == (0, None, None) and seen[-1] == (10_000, None, None)
    seen.clear()
    assert list(ctx.track([])) == [] and seen == [(0, 0, None)]


@dataclass(frozen=True)
class _NoParams:
    pass


class _Tracked(Check):
    name = "_test_tracked"
    Params = _NoParams

    def run(self, ctx: CheckContext):  # noqa: ANN201
        return self.result(ctx, reason=["long" if len(r) > 3 else "" for r in ctx.track(ctx.responses)])


def test_run_checks_reports_rows_from_inside_a_check() -> None:
    register(_Tracked)
    try:
        rows = _rows(["ok", "longer"] * 500)
        calls: list[tuple[str, float, int | None, int | None, str | None]] = []

        class Counting:
            counts_rows = True

            def __call__(self, message: str, fraction: float, done: int | None = None, total: int | None = None,
                         *, step: str | None = None, unit: str = "rows") -> None:
                calls.append((message, fraction, done, total, step))

        ctx = CheckContext(rows)
        out = run_checks(rows, ["_test_tracked"], ctx=ctx, progress=Counting())
        assert out["_test_tracked"].rows_flagged == 500 and ctx.progress_sink is None
        assert {c[4] for c in calls} == {"check _test_tracked"}
        inside = calls[1:-1]
        assert len(inside) >= 10 and all(c[3] == 1000 and c[1] < 1 for c in inside)  # the step ends only at the end
        assert calls[-1][1:4] == (1.0, 1000, 1000)
        plain: list[tuple[str, float]] = []  # an old (message, fraction) callable still works, monotonically
        run_checks(rows, ["_test_tracked"], progress=lambda m, f: plain.append((m, f)))
        assert plain[-1] == ("checks done", 1.0) and [f for _, f in plain] == sorted(f for _, f in plain)
        assert any(m.startswith("check _test_tracked: 500/1,000 rows") for m, _ in plain)
    finally:
        REGISTRY.pop(_Tracked.name, None)
