"""Faster embedders beside the plain sentence-transformers MiniLM (issue 6): an accurate path and an instant one.

* **accurate** (`onnx`, `onnx-int8`): the packaged MiniLM exported once with `torch.onnx.export` (transformer +
  mean pooling + L2 normalisation in one graph) and run with ONNX Runtime; `onnx-int8` is the same graph with
  weights quantised by `onnxruntime.quantization.quantize_dynamic(per_channel=True)` (per-tensor int8 loses
  noticeably more: bench/README.md "Faster embeddings"). Tokenisation uses the model's own `tokenizer.json` with
  the `tokenizers` library, texts sorted by token length so each batch pads little, and ONNX Runtime gets one
  intra-op thread per CPU. fp32 ONNX matches `SentenceTransformer.encode` to ~1e-7 cosine.
* **instant** (`static`): a model2vec static model distilled from the packaged MiniLM (no download: `distill`
  reads the local folder). Embedding is a lookup and a mean, 50-100× faster, and much less faithful to MiniLM.

Where the models come from (issue 13, "honest time"): the install step builds them once into a read-only folder
inside the environment, `sys.prefix/share/sift/models` (`make install` runs `python -m analysis.space.fast_embedders
--prepare`; `$SIFT_PREBUILT_MODELS` points elsewhere). The loaders look there first, then in
`$SIFT_HOME/models/<model>-onnx/` and `$SIFT_HOME/models/<model>-static/`, so a fresh `$SIFT_HOME` (every test,
every new user) never pays a multi-minute distillation in silence. Where a model is still missing, callers see it
with `model_ready` and build it as a named, timed step (`prepare_model`), never hidden inside "load". Builds are
written atomically and reused while the source weights are unchanged. Every kind has its own cache name
(`all-MiniLM-L6-v2-onnx-int8`, ...), so the workspace never mixes its vectors with another kind's. Nothing here
downloads anything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.space.embedders import Embedder, default_model_path, load_embedder, model_name
from analysis.util.files import atomic_path, atomic_write_text

log = logging.getLogger(__name__)

KINDS = ("minilm", "onnx", "onnx-int8", "static")
# The accurate default and the instant path (bench/README.md "Faster embeddings" has the measurements): int8 is
# faster than fp32 ONNX but moved TruthfulQA's default k-means topic NMI by 0.012-0.013 (the bound is 0.01), so the
# accurate default is lossless fp32 ONNX (every downstream score identical to plain MiniLM to three decimals);
# onnx-int8 stays selectable. DEFAULT is the one default everywhere: `sift analyze --embedder`, the app's session.
ACCURATE = "onnx"
INSTANT = "static"
DEFAULT = ACCURATE
# No speed factors here: they vary several-fold with the machine's load (bench/history.md), so the app shows the
# rate measured on this machine (analysis.space.timings) and these texts only say what each kind is.
KIND_HELP = {
    "minilm": "accurate · all-MiniLM-L6-v2 through sentence-transformers (the reference; slowest)",
    "onnx": "accurate · the same MiniLM through ONNX Runtime, fp32 (identical vectors, faster; the default)",
    "onnx-int8": "accurate · MiniLM through ONNX Runtime with int8 weights (faster still, near-identical results)",
    "static": "instant · a static model distilled from MiniLM (fastest by far, rougher neighbours and topics)",
}
PREBUILT_ENV = "SIFT_PREBUILT_MODELS"
_SUFFIX = {"minilm": "", "onnx": "-onnx", "onnx-int8": "-onnx-int8", "static": "-static"}
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FAST_EXTRA_HINT = "install the fast embedders with: pip install -e '.[fast]'"


def models_dir() -> Path:
    """`$SIFT_HOME/models`: models built after install (where the prebuilt folder lacks them)."""
    from analysis.workspace.folder import sift_home

    return sift_home() / "models"


def prebuilt_dir() -> Path:
    """The read-only models built by the install step: `$SIFT_PREBUILT_MODELS`, else `sys.prefix/share/sift/models`
    (inside the virtual environment, so it goes away with it)."""
    env = os.environ.get(PREBUILT_ENV)
    return Path(env).expanduser() if env else Path(sys.prefix) / "share" / "sift" / "models"


def model_roots() -> list[Path]:
    """Where the loaders look, in order: the prebuilt folder, then `$SIFT_HOME/models`."""
    return [prebuilt_dir(), models_dir()]


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown embedder {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def embedder_name(kind: str = "minilm", model_path: str | Path | None = None) -> str:
    """The workspace cache name of (kind, model), known without loading anything."""
    return model_name(model_path) + _SUFFIX[check_kind(kind)]


def _model_folder(model_path: str | Path | None) -> Path:
    path = Path(model_path).expanduser() if model_path else default_model_path()
    if not (path / "config.json").exists() or not (path / "tokenizer.json").exists():
        raise ValueError(f"{path} is not a transformers model folder with a fast tokenizer "
                         "(config.json and tokenizer.json are needed for the onnx and static embedders)")
    return path


def _source_signature(path: Path) -> str:
    """Names, sizes and mtimes of the weight and config files: a changed model is re-exported."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".safetensors", ".bin", ".json", ".txt"))
    parts = [(str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return hashlib.sha256(json.dumps([str(path.resolve()), parts]).encode()).hexdigest()[:16]


def _max_seq_length(path: Path) -> int:
    cfg = path / "sentence_bert_config.json"
    if cfg.exists():
        return int(json.loads(cfg.read_text()).get("max_seq_length") or 256)
    return 256


def _check_mean_pooling(path: Path) -> None:
    """The exported graph mean-pools; a model that pools otherwise (CLS, max) would silently differ."""
    cfg = path / "1_Pooling" / "config.json"
    if cfg.exists():
        pooling = json.loads(cfg.read_text())
        if not pooling.get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{path}: the onnx embedder supports mean-pooling models only; use --embedder minilm")


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# ------------------------------------------------------------------------------------------------ ONNX


_ONNX_FILES = {None: "model.onnx", "int8": "model-int8.onnx", "int8-per-tensor": "model-int8-per-tensor.onnx"}


def _check_quantize(quantize: str | None) -> None:
    if quantize not in _ONNX_FILES:
        raise ValueError(f"unknown quantisation {quantize!r}; expected None, 'int8' or 'int8-per-tensor'")


def _meta_source(meta_file: Path) -> str | None:
    try:
        return json.loads(meta_file.read_text()).get("source")
    except (OSError, ValueError):
        return None


def find_onnx(model_path: str | Path | None = None, *, quantize: str | None = None) -> Path | None:
    """The ONNX file already built for this model (prebuilt first, then `$SIFT_HOME/models`), or None."""
    _check_quantize(quantize)
    src = _model_folder(model_path)
    signature = _source_signature(src)
    for root in model_roots():
        out_dir = root / (model_name(model_path) + "-onnx")
        target = out_dir / _ONNX_FILES[quantize]
        if target.exists() and _meta_source(out_dir / "meta.json") == signature:
            return target
    return None


def export_onnx(model_path: str | Path | None = None, *, quantize: str | None = None,
                root: Path | None = None) -> Path:
    """The ONNX file of a mean-pooling sentence-transformers model: the one already built (`find_onnx`), else
    exported now into `root` (default `$SIFT_HOME/models`) and kept.

    `quantize`: None (fp32, the accurate default), "int8" (per-channel dynamic int8) or "int8-per-tensor" (kept for
    the benchmark, which shows why per-channel). With `root` given nothing is looked up elsewhere: the model is built
    there (the install step's `--prepare`, and tests of the export itself). Each file is written to a temp name and
    renamed, so a killed export leaves nothing half-written and concurrent processes at worst export twice.
    """
    _check_quantize(quantize)
    src = _model_folder(model_path)
    _check_mean_pooling(src)
    if root is None:
        found = find_onnx(model_path, quantize=quantize)
        if found is not None:
            return found
    out_dir = (root or models_dir()) / (model_name(model_path) + "-onnx")
    meta_file = out_dir / "meta.json"
    signature = _source_signature(src)
    if meta_file.exists() and _meta_source(meta_file) != signature:  # the weights changed: start again
        shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = out_dir / _ONNX_FILES[None]
    if not fp32.exists():
        _torch_export(src, fp32)
    atomic_write_text(meta_file, json.dumps({"source": signature, "model_path": str(src)}))
    if quantize is None:
        return fp32
    target = out_dir / _ONNX_FILES[quantize]
    if not target.exists():
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic
        except ImportError as exc:
            raise ValueError(f"the onnx embedders need onnxruntime and onnx; {FAST_EXTRA_HINT}") from exc
        log.info("quantising %s to int8 (%s)", fp32, quantize)
        root_log = logging.getLogger()
        level = root_log.level
        root_log.setLevel(logging.ERROR)  # the quantiser's advice to pre-process goes to the root logger
        with atomic_path(target) as tmp:
            try:
                quantize_dynamic(str(fp32), str(tmp), per_channel=quantize == "int8",
                                 weight_type=QuantType.QInt8)
            finally:
                root_log.setLevel(level)
    return target


def _torch_export(src: Path, target: Path) -> None:
    """transformer → attention-masked mean → L2 normalise, as one graph with dynamic batch and length."""
    _offline()
    try:
        import onnx  # noqa: F401 - the exporter and the quantiser need it; fail early with the hint
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ValueError(f"exporting to ONNX needs torch, transformers and onnx; {FAST_EXTRA_HINT}") from exc

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no third-party bar on the user's stderr
    model = AutoModel.from_pretrained(str(src), local_files_only=True).eval()
    tok = _tokenizer(src, 16)
    names = [n for n in _INPUTS if n in _accepted_inputs(model)]
    batch = _pad([e.ids for e in tok.encode_batch(["a short text", "a somewhat longer text to export with"])], names)

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            kwargs = dict(zip(names, inputs, strict=True))
            hidden = self.inner(**kwargs).last_hidden_state
            mask = kwargs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=-1)

    log.info("exporting %s to ONNX (once per machine)", src)
    args = tuple(torch.from_numpy(batch[n]) for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"embedding": {0: "batch"}}
    import warnings

    with atomic_path(target) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about python-side shape checks: shapes stay dynamic
        torch.onnx.export(Pooled(model), args, str(tmp), input_names=names, output_names=["embedding"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)


def _accepted_inputs(model: Any) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def _tokenizer(path: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.no_padding()  # we pad per length-sorted batch ourselves
    tok.enable_truncation(max_length)
    return tok


def _pad(ids: list[list[int]], names: Sequence[str], pad_id: int = 0) -> dict[str, np.ndarray]:
    width = max((len(x) for x in ids), default=1) or 1
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, x in enumerate(ids):
        input_ids[i, :len(x)] = x
        mask[i, :len(x)] = 1
    feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
    return {n: feeds[n] for n in names}


@dataclass
class OnnxEmbedder:
    """MiniLM (or another mean-pooling model) through ONNX Runtime: texts -> float32 unit vectors."""

    name: str
    dim: int
    onnx_path: Path
    tokenizer: Any
    session: Any
    pad_id: int = 0
    batch_size: int = 32
    input_names: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, model_path: str | Path | None = None, *, int8: bool = True, quantize: str | None = None,
             batch_size: int = 32, threads: int | None = None) -> OnnxEmbedder:
        """Export (first use) and open. `quantize` overrides `int8` (the benchmark's "int8-per-tensor")."""
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ValueError(f"the onnx embedders need onnxruntime; {FAST_EXTRA_HINT}") from exc
        quant = quantize if quantize is not None else ("int8" if int8 else None)
        src = _model_folder(model_path)
        onnx_path = export_onnx(model_path, quantize=quant)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        tok = _tokenizer(src, _max_seq_length(src))
        pad = tok.token_to_id("[PAD]")
        names = [i.name for i in session.get_inputs()]
        name = model_name(model_path) + ("-onnx" if quant is None else f"-onnx-{quant}")
        dim = int(session.get_outputs()[0].shape[-1] or 0)
        emb = cls(name, dim, onnx_path, tok, session, pad if pad is not None else 0, batch_size, names)
        if not dim:
            emb.dim = int(emb(["dimension probe"]).shape[1])
        return emb

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode_batch([str(t) for t in texts])]
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        order = np.argsort([len(x) for x in ids], kind="stable")  # similar lengths per batch: little padding
        for lo in range(0, len(order), self.batch_size):
            pick = order[lo:lo + self.batch_size]
            feeds = _pad([ids[i] for i in pick], self.input_names, self.pad_id)
            out[pick] = self.session.run(None, feeds)[0]
        return out


# ------------------------------------------------------------------------------------------------ static


def find_static(model_path: str | Path | None = None) -> Path | None:
    """The static model already distilled from this model (prebuilt first, then `$SIFT_HOME/models`), or None."""
    src = _model_folder(model_path)
    signature = _source_signature(src)
    for root in model_roots():
        out_dir = root / (model_name(model_path) + "-static")
        if _meta_source(out_dir / "sift.json") == signature:
            return out_dir
    return None


def distill_static(model_path: str | Path | None = None, *, pca_dims: int = 256, root: Path | None = None) -> Path:
    """The model2vec static model of the local MiniLM: the one already built (`find_static`), else distilled now into
    `root` (default `$SIFT_HOME/models`). Distilling takes from seconds to minutes on 2 busy cores
    (bench/history.md), which is why the install step does it. With `root` given it is built there."""
    src = _model_folder(model_path)
    if root is None:
        found = find_static(model_path)
        if found is not None:
            return found
    out_dir = (root or models_dir()) / (model_name(model_path) + "-static")
    signature = _source_signature(src)
    if _meta_source(out_dir / "sift.json") == signature:
        return out_dir
    _offline()
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise ValueError("the static embedder needs model2vec, skeletoken, torch and transformers; "
                         f"{FAST_EXTRA_HINT}") from exc
    log.info("distilling a static model from %s (once per machine)", src)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # model2vec's "Encoding tokens" bar would land on the user's stderr; callers report this step themselves
    inference = sys.modules.get("model2vec.distill.inference")
    bar = getattr(inference, "tqdm", None)
    if bar is not None:
        inference.tqdm = functools.partial(bar, disable=True)  # type: ignore[union-attr]
    try:
        model = distill(model_name=str(src), pca_dims=pca_dims, quantize_to="float32")
    finally:
        if bar is not None:
            inference.tqdm = bar  # type: ignore[union-attr]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        model.save_pretrained(str(tmp))
        (tmp / "sift.json").write_text(json.dumps({"source": signature, "model_path": str(src),
                                                   "pca_dims": pca_dims}))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)  # a whole folder appears at once
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


# ------------------------------------------------------------------------------------------------ readiness


def model_ready(kind: str, model_path: str | Path | None = None) -> bool:
    """Whether `kind` loads without a build step (minilm always does; the others once exported or distilled)."""
    check_kind(kind)
    if kind == "minilm":
        return True
    if kind == "static":
        return find_static(model_path) is not None
    return find_onnx(model_path, quantize="int8" if kind == "onnx-int8" else None) is not None


def prepare_model(kind: str, model_path: str | Path | None = None, *, root: Path | None = None) -> Path | None:
    """Build what `kind` needs (export or distil) unless it is already there; the folder or file, None for minilm."""
    check_kind(kind)
    if kind == "minilm":
        return None
    if kind == "static":
        return distill_static(model_path, root=root)
    return export_onnx(model_path, quantize="int8" if kind == "onnx-int8" else None, root=root)


def prepare_step_name(kind: str) -> str:
    """The step's name in `sift analyze --json`'s `steps` and on the progress line."""
    return f"prepare_model:{check_kind(kind)}"


@dataclass
class StaticEmbedder:
    """A model2vec StaticModel: token-embedding lookup and mean; texts -> float32 unit vectors."""

    name: str
    dim: int
    model: Any
    batch_size: int = 1024

    @classmethod
    def load(cls, model_path: str | Path | None = None) -> StaticEmbedder:
        folder = distill_static(model_path)
        try:
            from model2vec import StaticModel
        except ImportError as exc:
            raise ValueError(f"the static embedder needs model2vec; {FAST_EXTRA_HINT}") from exc
        model = StaticModel.from_pretrained(str(folder))
        return cls(embedder_name("static", model_path), int(model.dim), model)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vecs = np.asarray(self.model.encode([str(t) for t in texts], batch_size=self.batch_size,
                                            show_progress_bar=False, use_multiprocessing=False), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        vecs[:, :1] += (norms == 0)  # a text of unknown tokens only: a fixed unit vector, not NaN
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


# ------------------------------------------------------------------------------------------------ loaders


def load_embedder_by_kind(kind: str = DEFAULT, model_path: str | Path | None = None) -> Embedder:
    """minilm (sentence-transformers), onnx, onnx-int8 (ONNX Runtime) or static (model2vec); offline."""
    check_kind(kind)
    if kind == "minilm":
        return load_embedder(model_path)
    if kind in ("onnx", "onnx-int8"):
        return OnnxEmbedder.load(model_path, int8=kind == "onnx-int8")
    return StaticEmbedder.load(model_path)


class LazyEmbedder:
    """An embedder whose cache name is known at once and whose model loads on first use.

    `run_analysis` only needs `name` to open cached embeddings, so a map made earlier opens without loading (or
    exporting, or distilling) any model; `dim` or a call loads it.
    """

    def __init__(self, kind: str = DEFAULT, model_path: str | Path | None = None) -> None:
        self.kind = check_kind(kind)
        self.model_path = model_path
        self.name = embedder_name(kind, model_path)
        self._inner: Embedder | None = None

    @property
    def inner(self) -> Embedder:
        if self._inner is None:
            self._inner = load_embedder_by_kind(self.kind, self.model_path)
        return self._inner

    @property
    def dim(self) -> int:  # type: ignore[override]
        return self.inner.dim

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner(texts)


# ------------------------------------------------------------------------------------------------ install step


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m analysis.space.fast_embedders --prepare [--to DIR]`: what `make install` runs."""
    import argparse

    ap = argparse.ArgumentParser(description="Build the onnx, onnx-int8 and static models once, at install.")
    ap.add_argument("--prepare", action="store_true", help="export and distil the packaged MiniLM")
    ap.add_argument("--to", type=Path, default=None, help=f"target folder (default: {prebuilt_dir()})")
    ap.add_argument("--kinds", default="onnx,onnx-int8,static", help="comma-separated kinds to build")
    args = ap.parse_args(argv)
    if not args.prepare:
        ap.print_help()
        return 0
    root = args.to or prebuilt_dir()
    kinds = [check_kind(k.strip()) for k in args.kinds.split(",") if k.strip()]
    for kind in kinds:
        t = time.perf_counter()
        print(f"sift: building the {kind} embedder's model into {root} …", file=sys.stderr, flush=True)
        prepare_model(kind, root=root)
        print(f"sift: {kind} ready ({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    raise SystemExit(main())
