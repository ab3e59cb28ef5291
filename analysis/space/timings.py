"""Measured time of the map's steps on this machine, and the estimates derived from it (issue 13, "honest time").

A fixed rate ("~57 texts/s on 2 cores") was off by up to 300× on a busy or fresh machine, so no time is promised
from a constant. Each map computed from new embeddings records, per embedder cache name, what each step took and
how much work it did, in `$SIFT_HOME/timings.json`:

* embedding: seconds per unit of `text_cost` (characters capped at the model's truncation plus a per-text overhead,
  the same weights `embed_rows` uses for its ETA), so the estimate follows the actual rows' lengths;
* kNN index, map (UMAP) and topics: seconds per row fitted (the sample size where the map samples).

`estimate` scales the last run to the rows about to be computed; before any run it returns None and the caller
says "first run: measuring" (`describe`), never a number. The estimate says where it comes from, because a
one-off cost (numba's compilation in a fresh process, another job on the machine) moves it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.util.files import atomic_write_text

TIMINGS_FILE = "timings.json"
MEASURING = "first run: measuring"


def timings_path() -> Path:
    from analysis.workspace.folder import sift_home

    return sift_home() / TIMINGS_FILE


def text_cost(texts: Iterable[str]) -> float:
    """The embedding work of these texts: characters capped at 2,048 plus 32 per text (`embed_rows`' ETA weights)."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64)
    return float((np.minimum(lengths, 2048) + 32).sum()) if len(lengths) else 0.0


def _read() -> dict[str, Any]:
    try:
        data = json.loads(timings_path().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class StepWork:
    """One step of a map run: its name (embed, knn_index, projection, topics), seconds and units of work."""

    name: str
    seconds: float
    units: float


def record(model: str, steps: Iterable[StepWork]) -> None:
    """Keep these steps as `model`'s latest measurement of each (other steps keep theirs); an unreadable file is
    replaced, an unwritable one skipped."""
    new = {s.name: {"seconds": round(float(s.seconds), 3), "units": float(s.units)}
           for s in steps if s.units > 0 and s.seconds > 0}
    if not new:
        return
    data = _read()
    entry = data.get(model) if isinstance(data.get(model), dict) else {}
    entry = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             "steps": {**entry.get("steps", {}), **new}}
    data[model] = entry
    with contextlib.suppress(OSError):  # a read-only SIFT_HOME must not break the map it has just computed
        atomic_write_text(timings_path(), json.dumps(data, indent=1))


def measured(model: str) -> dict[str, Any] | None:
    """The latest measurements of `model` (when, steps), or None."""
    entry = _read().get(model)
    return entry if isinstance(entry, dict) and entry.get("steps") else None


def rate(model: str, step: str = "embed") -> float | None:
    """Units per second of `step` in `model`'s latest run (for embed: text_cost units/s), or None."""
    entry = measured(model)
    got = (entry or {}).get("steps", {}).get(step)
    if not got or got["seconds"] <= 0:
        return None
    return float(got["units"]) / float(got["seconds"])


def estimate(model: str, work: Mapping[str, float]) -> float | None:
    """Seconds for `work` (step name -> units) scaled from `model`'s latest run; None before a run measured every
    step asked for."""
    entry = measured(model)
    if entry is None:
        return None
    steps = entry["steps"]
    total = 0.0
    for name, units in work.items():
        got = steps.get(name)
        if not got or got["units"] <= 0:
            return None
        total += got["seconds"] * units / got["units"]
    return total


def describe(model: str, work: Mapping[str, float]) -> str:
    """"about 40 s (scaled to these rows from this machine's last run of it, 2026-12-03 18:02 UTC)" or MEASURING."""
    secs = estimate(model, work)
    if secs is None:
        return MEASURING
    when = (measured(model) or {}).get("when", "")
    return f"about {format_seconds(secs)} (scaled to these rows from this machine's last run of it, {when})"


def format_seconds(secs: float) -> str:
    """1 s, 45 s, 3 min 20 s, 1 h 05 min."""
    if secs < 90:
        return f"{max(secs, 1):,.0f} s"
    m, s = divmod(int(round(secs)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"
