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
