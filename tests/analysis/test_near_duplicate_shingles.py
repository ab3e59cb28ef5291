"""`NearDuplicate.run_from_shingles`: the seam bench/bench_dedup.py times MinHash + LSH through (no shingling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

import analysis.checks.near_duplicate as nd
from analysis.checks import CheckContext
from analysis.checks.exact_duplicate import scope_texts
from analysis.io import load


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return load(str(ROOT / "sample_data" / "*.jsonl")).rows


@pytest.mark.parametrize("slice_rows", [None, 13])
def test_run_from_shingles_equals_run(rows, monkeypatch, slice_rows):
    if slice_rows:  # the slices `run` works in cross row boundaries of the precomputed arrays too
        monkeypatch.setattr(nd, "SHINGLE_ROWS", slice_rows)
    check = nd.NearDuplicate()
    ctx = CheckContext(rows)
    whole = check.run(ctx)
    assert whole.rows_flagged > 0
    h, o = nd.shingle_sets(scope_texts(ctx, "both"), 3)
    given = check.run_from_shingles(ctx, h, o)
    assert np.array_equal(given.reason.astype(str), whole.reason.astype(str))
    assert np.array_equal(given.group_id, whole.group_id)
    assert np.allclose(given.score, whole.score)
    drop = {"seconds"}
    assert {k: v for k, v in given.summary.items() if k not in drop} == {
        k: v for k, v in whole.summary.items() if k not in drop}


def test_run_from_shingles_uses_the_given_shingles(rows):
    """The shingles given are the ones used: two rows given the same shingles become duplicates."""
    ctx = CheckContext(rows.head(40))
    h, o = nd.shingle_sets(scope_texts(ctx, "both"), 3)
    assert nd.NearDuplicate().run(ctx).group_id[:2].tolist() != [0, 0]
    h2 = h.copy()
    h2[o[1]:o[2]] = 0  # rows 0 and 1 made of one shingle each, the same one
    h2[o[0]:o[1]] = 0
    res = nd.NearDuplicate().run_from_shingles(ctx, h2, o)
    assert res.group_id[0] >= 0 and res.group_id[0] == res.group_id[1]


def test_run_from_shingles_refuses_shingles_of_other_rows(rows):
    ctx = CheckContext(rows.head(10))
    h, o = nd.shingle_sets(scope_texts(ctx, "both")[:9], 3)
    with pytest.raises(ValueError, match="do not fit 10 rows"):
        nd.NearDuplicate().run_from_shingles(ctx, h, o)
