"""Write a selection of rows in the layouts training frameworks read, each loadable with `datasets.load_dataset`.

Formats (file suffix in brackets):

* ``alpaca`` [.json]: a JSON array of ``{"instruction", "input", "output"}`` plus ``"system"`` and ``"history"``
  (earlier ``[user, assistant]`` pairs, the LLaMA-Factory layout) when any written row has them; then every row
  has both keys (``""`` / ``[]``) so the file has one schema.
* ``sharegpt`` [.json]: a JSON array of ``{"conversations": [{"from": "system"|"human"|"gpt"|"function_call"|
  "observation", "value"}]}`` plus ``"tools"`` (a JSON string, as LLaMA-Factory expects) when any row has tools.
* ``messages`` [.jsonl]: OpenAI chat ``{"messages": [{"role", "content"}]}``. A tool-call turn is written as an
  assistant turn whose content is the call's JSON (the canonical table keeps calls as text).
* ``trl`` [.jsonl]: TRL's standard preference form, ``{"prompt", "chosen", "rejected"}`` strings. The prompt is
  the row's rendered context: the question itself for one turn, ``role: content`` blocks for several.
* ``trl_chat`` [.jsonl]: TRL's conversational preference form: ``prompt`` is the context as a message list,
  ``chosen`` / ``rejected`` one assistant message each.

What a format cannot express. The chat formats (alpaca, sharegpt, messages) need a user turn and end on an
assistant answer; alpaca also needs strictly alternating user/assistant turns without tool calls. Preference rows
are written to them with their *chosen* answer (SFT on the preferred response). trl/trl_chat take preference rows
only. By default an inexpressible row raises ``ValueError`` naming its ``row_id`` and why (a training file that
silently lost rows is worse than an error); ``skip_unsupported=True`` writes the rest and reports the skipped ids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.curation.recipe import row_hash
from analysis.curation.writers import chosen_turns
from analysis.util.files import atomic_path, atomic_write_text

TRAINING_FORMATS = ("alpaca", "sharegpt", "messages", "trl", "trl_chat")
SUFFIX = {"alpaca": ".json", "sharegpt": ".json", "messages": ".jsonl", "trl": ".jsonl", "trl_chat": ".jsonl"}
MANIFEST = "manifest.json"
_SHAREGPT_ROLE = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


class Unsupported(ValueError):  # noqa: N818 - reads as "raise Unsupported(...)"; a ValueError for callers
    """A row the chosen format cannot express."""


@dataclass(frozen=True)
class TrainingExport:
    out: str
    format: str
    rows_written: int
    skipped: list[dict[str, Any]] = field(default_factory=list)  # [{"row_id", "reason"}]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _turns(row: Any) -> list[dict[str, Any]]:
    return [{"role": str(t["role"]), "content": str(t["content"] or ""), "tool_call": bool(t.get("tool_call"))}
            for t in row.messages]


def _chat_turns(row: Any) -> list[dict[str, Any]]:
    """The conversation a chat format writes; preference rows carry their chosen answer already."""
    turns = _turns(row)
    if not any(t["role"] == "user" for t in turns):
        raise Unsupported(f"a {row.kind} row has no user turn")
    if turns[-1]["role"] != "assistant" or turns[-1]["tool_call"]:
        raise Unsupported("the conversation does not end on an assistant answer")
    return turns


def _split_system(turns: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    k = 0
    while k < len(turns) and turns[k]["role"] == "system":
        k += 1
    return "\n\n".join(t["content"] for t in turns[:k]), turns[k:]


def _alpaca(row: Any) -> dict[str, Any]:
    system, rest = _split_system(_chat_turns(row))
    expected = ["user", "assistant"] * (len(rest) // 2)
    if [t["role"] for t in rest] != expected or any(t["tool_call"] for t in rest) or not rest:
        raise Unsupported("alpaca needs alternating user/assistant turns without tool calls")
    pairs = [[rest[i]["content"], rest[i + 1]["content"]] for i in range(0, len(rest), 2)]
    rec: dict[str, Any] = {"instruction": pairs[-1][0], "input": "", "output": pairs[-1][1]}
    if system:
        rec["system"] = system
    if len(pairs) > 1:
        rec["history"] = pairs[:-1]
    return rec


def _sharegpt(row: Any) -> dict[str, Any]:
    conv = []
    for t in _chat_turns(row):
        role = "function_call" if t["tool_call"] else _SHAREGPT_ROLE.get(t["role"])
        if role is None:
            raise Unsupported(f"sharegpt has no role for {t['role']!r} turns")
        conv.append({"from": role, "value": t["content"]})
    rec: dict[str, Any] = {"conversations": conv}
    if isinstance(row.tools, str) and row.tools:
        rec["tools"] = row.tools
    return rec


def _messages(row: Any) -> dict[str, Any]:
    return {"messages": [{"role": "assistant" if t["tool_call"] else t["role"], "content": t["content"]}
                         for t in _chat_turns(row)]}


def _preference(row: Any) -> None:
    if row.kind != "preference" or not isinstance(row.chosen, str) or not isinstance(row.rejected, str):
        raise Unsupported(f"a {row.kind} row has no chosen/rejected pair")


def _trl(row: Any) -> dict[str, Any]:
    _preference(row)
    return {"prompt": str(row.prompt or ""), "chosen": row.chosen, "rejected": row.rejected}


def _trl_chat(row: Any) -> dict[str, Any]:
    _preference(row)
    turns = _turns(row)
    context = turns[:len(turns) - chosen_turns(turns, row.chosen)]
    return {"prompt": [{"role": t["role"], "content": t["content"]} for t in context],
            "chosen": [{"role": "assistant", "content": row.chosen}],
            "rejected": [{"role": "assistant", "content": row.rejected}]}


_BUILDERS = {"alpaca": _alpaca, "sharegpt": _sharegpt, "messages": _messages, "trl": _trl, "trl_chat": _trl_chat}


def training_records(rows: pd.DataFrame, positions: Sequence[int] | np.ndarray, fmt: str, *,
                     skip_unsupported: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(records in `fmt`, skipped [{"row_id", "reason"}]) for rows at `positions`, in that order."""
    if fmt not in _BUILDERS:
        raise ValueError(f"unknown training format {fmt!r}; expected one of {', '.join(TRAINING_FORMATS)}")
    build = _BUILDERS[fmt]
    subset = rows.iloc[np.asarray(positions, dtype=np.int64)]
    records: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for row in subset.itertuples(index=False):
        try:
            records.append(build(row))
        except Unsupported as exc:
            if not skip_unsupported:
                raise Unsupported(f"row {int(row.row_id)} cannot be written as {fmt}: {exc} "
                                  "(pick another format, or skip such rows: --skip-unsupported)") from None
            skipped.append({"row_id": int(row.row_id), "reason": str(exc)})
    if fmt == "alpaca":
        _fill(records, {"system": "", "history": []})
    elif fmt == "sharegpt":
        _fill(records, {"tools": ""})
    return records, skipped


def _fill(records: list[dict[str, Any]], defaults: Mapping[str, Any]) -> None:
    """Optional keys present on some records go on all of them, so the file has one schema."""
    for key, default in defaults.items():
        if any(key in r for r in records):
            for r in records:
                r.setdefault(key, default)


def write_training(rows: pd.DataFrame, positions: Sequence[int] | np.ndarray, out: str | Path, fmt: str, *,
                   skip_unsupported: bool = False) -> TrainingExport:
    """Write rows at `positions` to `out` in `fmt` (atomically); ValueError on an inexpressible row unless skipping."""
    records, skipped = training_records(rows, positions, fmt, skip_unsupported=skip_unsupported)
    _write_records(records, Path(out), fmt)
    return TrainingExport(str(out), fmt, len(records), skipped)


def _write_records(records: list[dict[str, Any]], out: Path, fmt: str) -> None:
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        if SUFFIX[fmt] == ".json":
            json.dump(records, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        else:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False))
                fh.write("\n")


def write_subsets(rows: pd.DataFrame, subsets: Mapping[str, Sequence[int] | np.ndarray], out_dir: str | Path,
                  fmt: str, *, manifest: Mapping[str, Any] | None = None, prefix: str = "subset",
                  skip_unsupported: bool = False) -> dict[str, Any]:
    """One file per named subset (`<prefix>_<name><suffix>`) plus `manifest.json`; returns the manifest.

    The manifest holds `manifest` (strategy, seed, fractions, ...) plus, per subset, its file, rows written, row ids
    (in the order written), their content hashes (so `sift apply manifest.json NEW_FILE --subset NAME` replays the
    selection on a new version of the data) and skipped rows. Every subset is checked before any file is written,
    so an error leaves the folder as it was.
    """
    out_dir = Path(out_dir)
    built = {name: training_records(rows, pos, fmt, skip_unsupported=skip_unsupported)
             for name, pos in subsets.items()}  # raises before anything is written
    doc: dict[str, Any] = {"created": datetime.now(UTC).isoformat(timespec="seconds"), "format": fmt,
                           **(manifest or {}), "subsets": {}}
    for name, pos in subsets.items():
        path = out_dir / f"{prefix}_{name}{SUFFIX[fmt]}"
        records, skipped = built[name]
        _write_records(records, path, fmt)
        skipped_ids = {s["row_id"] for s in skipped}
        picked = np.asarray(pos, dtype=np.int64)
        keep = [int(r) not in skipped_ids for r in rows["row_id"].to_numpy()[picked]]
        ids = [int(r) for r, k in zip(rows["row_id"].to_numpy()[picked], keep, strict=True) if k]
        hashes = [row_hash(str(src)) for src, k in zip(rows["source"].to_numpy()[picked], keep, strict=True) if k]
        doc["subsets"][name] = {"file": path.name, "rows": len(records), "row_ids": ids, "hashes": hashes,
                                "skipped": skipped}
    atomic_write_text(out_dir / MANIFEST, json.dumps(doc, ensure_ascii=False, indent=1))
    return doc


def write_nested(rows: pd.DataFrame, subsets: Mapping[float, Sequence[int] | np.ndarray], out_dir: str | Path,
                 fmt: str, *, seed: int, strategy: str = "stratified-random", stratified_by: str = "topic",
                 extra: Mapping[str, Any] | None = None, skip_unsupported: bool = False) -> dict[str, Any]:
    """Nested subsets (fraction -> positions) as `subset_<fraction>` files + one manifest naming fractions, seed,
    strategy and row ids (`extra`, e.g. the dataset fingerprint, goes into the manifest too)."""
    from analysis.prepare.selection import fraction_key

    named = {fraction_key(f): pos for f, pos in sorted(subsets.items())}
    meta = {"kind": "nested", "fractions": sorted(float(f) for f in subsets), "seed": seed, "strategy": strategy,
            "stratified_by": stratified_by, **(extra or {})}
    return write_subsets(rows, named, out_dir, fmt, manifest=meta, skip_unsupported=skip_unsupported)
