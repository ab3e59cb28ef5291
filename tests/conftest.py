"""Shared fixtures: the real datasets in ../shared/datasets and an isolated SIFT_HOME for every test."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    """../shared/datasets beside the checkout; a fresh clone elsewhere (CI) finds the workplace copy instead."""
    candidates = [os.environ.get("SIFT_SHARED_DATASETS"), ROOT.parent / "shared" / "datasets",
                  "/work/shared/datasets"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return ROOT.parent / "shared" / "datasets"


SHARED = _find_shared()


@pytest.fixture(autouse=True)
def sift_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Workspaces go to a per-test temp dir: tests never read or write ~/.sift."""
    home = tmp_path_factory.mktemp("sift_home")
    monkeypatch.setenv("SIFT_HOME", str(home))
    return home


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED}")
    return SHARED


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """write_jsonl("name.jsonl", records) -> path; one compact JSON object per line."""

    def write(name: str, records: Iterable[Any]) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        return path

    return write


@pytest.fixture
def snapshot() -> Callable[[Iterable[Path]], dict[Path, tuple[bytes, int]]]:
    """snapshot(paths) -> bytes and mtime of each file: compare before/after to prove nothing wrote them."""

    def take(paths: Iterable[Path]) -> dict[Path, tuple[bytes, int]]:
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}

    return take


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged MiniLM, loaded once per test session (offline)."""
    from analysis.space.embedders import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def truthfulqa(real_embedder, tmp_path_factory: pytest.TempPathFactory):
    """TruthfulQA (817 questions, 38 categories) loaded with Question/Best Answer mapped, plus its real
    MiniLM embeddings of the prompt scope, computed once per session (~15 s on 2 cores)."""
    if not (SHARED / "truthfulqa" / "TruthfulQA.csv").is_file():
        pytest.skip(f"shared datasets not found at {SHARED}")
    from analysis.io import LoadOptions, load
    from analysis.space.embedders import embed_rows

    ds = load(SHARED / "truthfulqa" / "TruthfulQA.csv",
              LoadOptions(mapping={"prompt": "Question", "response": "Best Answer"}))
    ws = tmp_path_factory.mktemp("truthfulqa_ws")
    vectors = embed_rows(ws, ds.rows, real_embedder, scope="prompt")
    categories = [json.loads(s)["Category"] for s in ds.rows["source"]]
    return {"dataset": ds, "rows": ds.rows, "vectors": vectors, "categories": categories, "ws": ws}
