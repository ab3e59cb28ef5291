"""Fast embedders (analysis/space/fast_embedders.py): cache names and loader errors (no model), then the real exports:
ONNX fp32 equals sentence-transformers, int8 keeps the neighbours, the static model's vectors, and the Map page's
Embedder choice with its upgrade to the accurate path. One export and one distillation per module."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from analysis.space.embedders import DEFAULT_MODEL, embed_rows, load_embeddings, model_name
from analysis.space.fast_embedders import (
    ACCURATE,
    INSTANT,
    KINDS,
    PREBUILT_ENV,
    LazyEmbedder,
    OnnxEmbedder,
    StaticEmbedder,
    embedder_name,
    export_onnx,
    load_embedder_by_kind,
)

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["hi", "", "What is the capital of France?", "The quick brown fox jumps over the lazy dog. " * 4,
         "word " * 600,  # past MiniLM's 256-token truncation
         "héllo wörld, ünïcode and 日本語 text", "How do I read a CSV file with pandas?"]


# ------------------------------------------------------------------------------------------------ no model needed


def test_cache_names_are_distinct_and_known_without_loading(tmp_path: Path) -> None:
    names = {k: embedder_name(k) for k in KINDS}
    assert names == {"minilm": DEFAULT_MODEL, "onnx": f"{DEFAULT_MODEL}-onnx",
                     "onnx-int8": f"{DEFAULT_MODEL}-onnx-int8", "static": f"{DEFAULT_MODEL}-static"}
    assert embedder_name("minilm") == model_name(None)  # the plain path keeps the cache it always had
    other = tmp_path / "my-model"
    assert embedder_name("static", other).startswith("my-model-") and embedder_name("static", other).endswith(
        "-static")
    lazy = LazyEmbedder("onnx-int8")
    assert lazy.name == names["onnx-int8"] and lazy._inner is None  # naming loads nothing
    assert ACCURATE in KINDS and INSTANT in KINDS


def test_loader_errors_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="unknown embedder 'fast'.*minilm, onnx, onnx-int8, static"):
        load_embedder_by_kind("fast")
    with pytest.raises(ValueError, match="unknown embedder"):
        LazyEmbedder("bge")
    with pytest.raises(ValueError, match="not a transformers model folder"):
        load_embedder_by_kind("onnx", tmp_path)
    with pytest.raises(ValueError, match="not a transformers model folder"):
        load_embedder_by_kind("static", tmp_path)
    with pytest.raises(ValueError, match="unknown quantisation"):
        export_onnx(quantize="int4")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the `fast` extra were not installed
    with pytest.raises(ValueError, match=r"pip install -e '\.\[fast\]'"):
        load_embedder_by_kind("onnx-int8")


def test_cli_rejects_an_unknown_embedder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analysis.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(tmp_path / "x.jsonl"), "--embed", "--embedder", "turbo"])
    assert exc.value.code == 2 and "invalid choice: 'turbo'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ real models


@pytest.fixture(scope="module")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One $SIFT_HOME for the module's exports: the ONNX export (~5-60 s) and the distillation (~20-100 s) run
    once; each test's own SIFT_HOME (conftest) still isolates its workspaces."""
    yield tmp_path_factory.mktemp("models_home")


def _in_home(home: Path, fn):  # noqa: ANN001, ANN202
    """Run `fn` with `home` as SIFT_HOME and no prebuilt models, so the export and the distillation themselves run
    (into home/models) even where the install step prebuilt them."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIFT_HOME", str(home))
        mp.setenv(PREBUILT_ENV, str(home / "no-prebuilt"))
        return fn()


@pytest.fixture(scope="module")
def onnx_fp32(models_home: Path) -> OnnxEmbedder:
    return _in_home(models_home, lambda: OnnxEmbedder.load(int8=False))


@pytest.fixture(scope="module")
def onnx_int8(models_home: Path, onnx_fp32: OnnxEmbedder) -> OnnxEmbedder:
    return _in_home(models_home, lambda: OnnxEmbedder.load(int8=True))


@pytest.fixture(scope="module")
def static(models_home: Path) -> StaticEmbedder:
    return _in_home(models_home, StaticEmbedder.load)


def _unit_float32(v: np.ndarray, n: int, dim: int) -> None:
    assert v.shape == (n, dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_onnx_fp32_matches_sentence_transformers(onnx_fp32: OnnxEmbedder, real_embedder, models_home: Path) -> None:
    assert (onnx_fp32.name, onnx_fp32.dim) == (f"{DEFAULT_MODEL}-onnx", 384)
    ours, ref = onnx_fp32(TEXTS), real_embedder(TEXTS)
    _unit_float32(ours, len(TEXTS), 384)
    cos = np.sum(ours * ref, axis=1)
    assert cos.min() > 1 - 1e-4, cos
    single = onnx_fp32([TEXTS[3]])  # batching and length-sorting do not change a text's vector
    assert float(single[0] @ ours[3]) > 1 - 1e-5
    out = models_home / "models" / f"{DEFAULT_MODEL}-onnx"
    assert (out / "model.onnx").is_file() and json.loads((out / "meta.json").read_text())["source"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left behind
    mtime = (out / "model.onnx").stat().st_mtime_ns
    _in_home(models_home, lambda: OnnxEmbedder.load(int8=False))  # reopened, not exported again
    assert (out / "model.onnx").stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_onnx_int8_keeps_the_neighbours(onnx_int8: OnnxEmbedder, truthfulqa) -> None:
    """On TruthfulQA's 817 questions int8 keeps most of fp32 MiniLM's 10 nearest neighbours and nearly all
    inside its top 20 (measured here: 0.89 and 0.99; bench/README.md has the 5,000-text numbers)."""
    assert onnx_int8.name == f"{DEFAULT_MODEL}-onnx-int8"
    texts = truthfulqa["rows"]["prompt"].tolist()
    ref = np.asarray(truthfulqa["vectors"])
    ours = onnx_int8(texts)
    _unit_float32(ours, len(texts), 384)

    def top(x: np.ndarray, k: int) -> np.ndarray:
        s = x @ x.T
        np.fill_diagonal(s, -np.inf)
        return np.argpartition(-s, k, axis=1)[:, :k]

    a, b, b20 = top(ref, 10), top(ours, 10), top(ours, 20)
    knn10 = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b, strict=True)])
    in20 = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b20, strict=True)])
    assert knn10 > 0.8 and in20 > 0.95, (knn10, in20)
    assert float(np.mean(np.sum(ours * ref, axis=1))) > 0.97


@pytest.mark.slow
def test_static_embedder_unit_vectors_deterministic(static: StaticEmbedder, models_home: Path) -> None:
    assert static.name == f"{DEFAULT_MODEL}-static" and static.dim == 256
    a = static(TEXTS)
    _unit_float32(a, len(TEXTS), 256)
    assert np.array_equal(a, static(TEXTS))
    assert np.allclose(static([TEXTS[2]])[0], a[2], atol=1e-6)  # a text's vector does not depend on its batch
    q, near, far = static(["How do I cook pasta?", "How long should I boil spaghetti?", "What is a black hole?"])
    assert q @ near > q @ far
    assert (models_home / "models" / f"{DEFAULT_MODEL}-static" / "sift.json").is_file()


@pytest.mark.slow
def test_kinds_keep_their_own_workspace_cache(static: StaticEmbedder, tmp_path: Path) -> None:
    import pandas as pd

    rows = pd.DataFrame({"row_id": np.arange(5, dtype=np.int64), "prompt": TEXTS[:5]})
    vecs = embed_rows(tmp_path, rows, static, scope="prompt")
    assert (tmp_path / "embeddings" / f"{DEFAULT_MODEL}-static@prompt.npy").is_file()
    assert load_embeddings(tmp_path, embedder_name("minilm"), "prompt") is None  # never mixed with MiniLM's
    lazy = LazyEmbedder("static")
    found = load_embeddings(tmp_path, lazy.name, "prompt", rows["row_id"].to_numpy())
    assert found is not None and np.array_equal(found, vecs) and lazy._inner is None


# ------------------------------------------------------------------------------------------------ the Map page


@pytest.mark.slow
def test_map_instant_then_upgrade_to_accurate(static: StaticEmbedder, onnx_fp32: OnnxEmbedder, models_home: Path,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT / "tests"))
    from topic_texts import QUESTIONS, chat_row

    data = tmp_path / "three_topics.jsonl"
    data.write_text("".join(json.dumps(chat_row(q)) + "\n" for q in QUESTIONS), encoding="utf-8")
    monkeypatch.setenv("SIFT_HOME", str(models_home))  # the module's exports: nothing is exported again
    monkeypatch.setenv("SIFT_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/map.py")
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="map_embedder").options == [f"{k} ({'instant' if k == 'static' else 'accurate'})"
                                                        for k in KINDS]
    at.selectbox(key="map_embedder").set_value("static").run()
    assert any("(static)" in i.value for i in at.info)
    at.button(key="map_compute").click().run()
    assert not at.exception, at.exception
    assert any(f"model {DEFAULT_MODEL}-static" in c.value for c in at.caption)
    at.text_input(key="map_query").input("which planet is red").run()  # the query is embedded in the map's space
    assert not at.exception, at.exception
    at.button(key="map_upgrade").click().run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 300  # the upgrade runs in a background thread; the page polls it
    while not [b for b in at.button if b.key == "map_upgrade_switch"]:
        assert time.monotonic() < deadline and not at.error, [e.value for e in at.error]
        time.sleep(0.5)
        at.run()
    at.button(key="map_upgrade_switch").click().run()
    assert any(f"model {embedder_name(ACCURATE)}" in c.value for c in at.caption)
    assert at.selectbox(key="map_embedder").value == ACCURATE
    assert not [b for b in at.button if b.key == "map_upgrade"]
    (ws,) = list((models_home / "workspaces").glob("*/"))
    assert {p.name for p in (ws / "embeddings").glob("*.npy")} == {f"{DEFAULT_MODEL}-static@both.npy",
                                                                   f"{embedder_name(ACCURATE)}@both.npy"}
