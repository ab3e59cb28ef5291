"""Per-row measurements and dataset summaries behind the Overview page and the Browse filters.

Computed once per dataset as plain columns (vectorised where pandas allows) so that filtering
100k rows by length or searching one role is a column operation, not a Python loop per keystroke.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROLES = ("system", "user", "assistant", "tool")


def word_counts(series: pd.Series) -> np.ndarray:
    """Whitespace-separated words per row, in Arrow (pandas' `str.split` builds a Python list per row)."""
    arr = pa.array(series.fillna(""), type=pa.string())
    return pc.list_value_length(pc.utf8_split_whitespace(arr)).to_numpy(zero_copy_only=False).astype("int64")


def row_stats(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per example: lengths, turn counts and per-role text (for role-scoped search)."""
    prompt = rows["prompt"].fillna("").astype(str)
    response = rows["response"].fillna("").astype(str)
    out = pd.DataFrame({"row_id": rows["row_id"].to_numpy()})
    out["prompt_chars"] = prompt.str.len().to_numpy()
    out["response_chars"] = response.str.len().to_numpy()
    out["prompt_words"] = word_counts(prompt)
    out["response_words"] = word_counts(response)
    role_texts: dict[str, list[str]] = {r: [] for r in ROLES}
    counts: dict[str, list[int]] = {r: [] for r in ROLES}
    turns, empty_turns, tool_calls, last_user = [], [], [], []
    for msgs in rows["messages"]:
        per_role: dict[str, list[str]] = {r: [] for r in ROLES}
        empty = calls = 0
        for t in msgs:
            content = t["content"] or ""
            if t["role"] in per_role:
                per_role[t["role"]].append(content)
            if not content.strip():
                empty += 1
            calls += bool(t.get("tool_call"))
        for r in ROLES:
            role_texts[r].append("\n\n".join(per_role[r]))
            counts[r].append(len(per_role[r]))
        last_user.append(per_role["user"][-1] if per_role["user"] else "")
        turns.append(len(msgs))
        empty_turns.append(empty)
        tool_calls.append(calls)
    out["turns"] = np.asarray(turns, dtype="int64")
    out["empty_turns"] = np.asarray(empty_turns, dtype="int64")
    out["tool_calls"] = np.asarray(tool_calls, dtype="int64")
    # The question a row asks: what a table preview should show (not a system prompt shared by many rows).
    out["last_user"] = pd.array(last_user, dtype="str")
    for r in ROLES:
        out[f"n_{r}"] = np.asarray(counts[r], dtype="int64")
        out[f"text_{r}"] = pd.array(role_texts[r], dtype="str")
    return out


def summary(rows: pd.DataFrame, stats: pd.DataFrame, field_counts: dict[str, int]) -> dict[str, Any]:
    """Headline numbers for the Overview page."""
    n = len(rows)
    prompt_empty = int((stats["prompt_chars"] == 0).sum())
    # a prompt row (benchmark question, RL prompt) has no answer by design: not an empty response
    response_empty = int(((rows["response"].fillna("").str.strip() == "") & (rows["kind"] != "prompt")).sum())
    roles = {r: int(stats[f"n_{r}"].sum()) for r in ROLES}
    scores = rows["score"].dropna()
    return {
        "rows": n,
        "kinds": {str(k): int(v) for k, v in rows["kind"].value_counts().items()},
        "files": {str(k): int(v) for k, v in rows["source_file"].value_counts().items()},
        "field_presence": {k: v / n for k, v in sorted(field_counts.items(), key=lambda kv: -kv[1])} if n else {},
        "empty_prompt": prompt_empty,
        "empty_response": response_empty,
        "rows_with_empty_turn": int((stats["empty_turns"] > 0).sum()),
        "role_counts": roles,
        "turns": {int(k): int(v) for k, v in sorted(Counter(stats["turns"]).items())},
        "tool_calls": int(stats["tool_calls"].sum()),
        "score": {"count": int(scores.size), "mean": float(scores.mean()) if scores.size else None,
                  "min": float(scores.min()) if scores.size else None,
                  "max": float(scores.max()) if scores.size else None},
        "median_prompt_chars": float(stats["prompt_chars"].median()) if n else 0.0,
        "median_response_chars": float(stats["response_chars"].median()) if n else 0.0,
    }
