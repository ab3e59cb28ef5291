"""`length` on a folder that mixes styles: statistics per source file, so each file keeps its own normal length."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SHARED

from analysis.checks import run_checks
from analysis.checks.length import grouped_robust_z, robust_z
from analysis.io import load

MIX = {"gsm8k_train.jsonl": SHARED / "gsm8k" / "train.jsonl",
       "codealpaca.json": SHARED / "codealpaca" / "code_alpaca_2k.json",
       "alpaca.json": SHARED / "llamafactory_demo" / "alpaca_en_demo.json",
       "dummy.json": SHARED / "fastchat" / "dummy_conversation.json"}


def test_grouped_robust_z_uses_each_groups_median_and_small_groups_fall_back():
    x = np.array([1.0, 2, 3, 4, 5, 101, 102, 103, 104, 105, 50])
    groups = np.array(["a"] * 5 + ["b"] * 5 + ["c"])
    mask = np.ones(len(x), bool)
    z = grouped_robust_z(x, mask, groups, min_rows=5)
    assert np.allclose(z[:5], robust_z(x[:5]))  # group a alone
    assert np.allclose(z[5:10], robust_z(x[5:10]))  # group b alone: 103 is its median
    assert z[7] == 0 and z[2] == 0
    assert z[10] == robust_z(x, mask)[10]  # group c (1 row) uses the dataset-wide statistics
    assert np.array_equal(grouped_robust_z(x, mask, None, 5), robust_z(x, mask))
    assert np.array_equal(grouped_robust_z(x, mask, np.array(["a"] * len(x)), 5), robust_z(x, mask))


def test_mixed_folder_flags_what_the_files_flag_alone(tmp_path):
    for name, src in MIX.items():
        if not src.exists():
            pytest.skip(f"shared data not found: {src}")
        (tmp_path / name).symlink_to(src)
    rows = load(tmp_path).rows
    alone = {name: run_checks(load(tmp_path / name).rows, ["length"])["length"] for name in MIX}
    mixed = run_checks(rows, ["length"])["length"]
    files = rows["source_file"].astype(str).to_numpy()
    for name, r in alone.items():
        assert np.array_equal(mixed.is_issue[files == name], r.is_issue), name
        assert list(mixed.reason[files == name]) == list(r.reason), name
    assert mixed.rows_flagged == sum(r.rows_flagged for r in alone.values()) == 11
    wide = run_checks(rows, ["length"], params={"length": {"per_file": False}})["length"]
    assert wide.rows_flagged == 367  # dataset-wide statistics: alpaca's essays look long next to GSM8K
    assert set(files[wide.is_issue & (wide.reason == "length_ratio_outlier")]) == {"alpaca.json", "codealpaca.json"}
