"""Pure helpers of components/: chart selections and table selections map back to rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.explore.filters import CurationView
from components.charts import category_bar, histogram, selected_categories, selected_range
from components.table import selected_row_ids, status_labels, table_page


def test_histogram_bars_carry_their_value_range() -> None:
    fig = histogram(np.array([0, 1, 1, 2, 5, 9]), title="t", x_label="x", nbins=40)
    bar = fig.data[0]
    ranges = [tuple(r) for r in bar.customdata]
    assert sum(bar.y) == 6
    assert (1.0, 1.0) in ranges and (9.0, 9.0) in ranges
    assert isinstance(bar.customdata[0], tuple | list) and not any("-0" in t for t in bar.hovertext)


def test_histogram_integer_bins_cover_wide_ranges_without_gaps() -> None:
    values = np.arange(0, 10_000)
    fig = histogram(values, title="t", x_label="x", nbins=40)
    cd = np.asarray(fig.data[0].customdata)
    assert sum(fig.data[0].y) == 10_000
    assert cd[0][0] <= 0 and cd[-1][1] >= 9_999
    assert all(cd[i][1] + 1 == cd[i + 1][0] for i in range(len(cd) - 1))


def test_selected_range_unions_selected_bars() -> None:
    event = {"selection": {"points": [{"customdata": [10, 19]}, {"customdata": [30, 39]}]}}
    assert selected_range(event) == (10.0, 39.0)
    assert selected_range({"selection": {"points": [{"customdata": {"0": 5, "1": 9}}]}}) == (5.0, 9.0)
    assert selected_range({"selection": {"points": []}}) is None
    assert selected_range(None) is None


def test_selected_categories_reads_customdata_or_x() -> None:
    fig = category_bar({"chat": 3, "sft": 2}, title="t", x_label="kind")
    assert list(fig.data[0].x) == ["chat", "sft"]
    event = {"selection": {"points": [{"customdata": ["sft"]}, {"x": "chat"}, {"customdata": ["sft"]}]}}
    assert selected_categories(event) == ["sft", "chat"]


def test_table_selection_positions_map_to_row_ids() -> None:
    page = pd.DataFrame({"row_id": [40, 41, 97]})
    assert selected_row_ids({"selection": {"rows": [0, 2]}}, page) == [40, 97]
    assert selected_row_ids({"selection": {"rows": [5]}}, page) == []
    assert selected_row_ids({}, page) == []


def test_status_labels_and_table_page() -> None:
    cur = CurationView(dropped={1}, flagged={1, 2}, tagged={"review": {2}}, noted={3})
    frame = pd.DataFrame({"row_id": [1, 2, 3], "kind": ["sft"] * 3, "prompt": ["a  b\nc", "x" * 300, None],
                          "response": ["r", "s", "t"], "turns": [2, 2, 2], "response_chars": [1, 1, 1],
                          "source_file": ["/d/a.jsonl"] * 3})
    labels = status_labels(frame["row_id"], cur)
    assert list(labels) == ["dropped flagged", "flagged #review", "note"]
    page = table_page(frame, cur, preview_chars=20)
    assert page.loc[0, "prompt"] == "a b c"
    assert len(page.loc[1, "prompt"]) == 20 and page.loc[1, "prompt"].endswith("…")
    assert page.loc[2, "prompt"] == ""
    assert list(page["file"]) == ["a.jsonl"] * 3
