"""Honest time (issue 13 point 4): prebuilt models found before `$SIFT_HOME/models`, no distillation hidden on a
fresh `$SIFT_HOME`, a missing model built as a named and timed step, estimates only from measured rates, progress
lines while the map and topics run, and one default embedder everywhere.

The static model used here is a real model2vec `StaticModel` (the packaged MiniLM's tokenizer, small random
vectors) written where the install step writes its distilled one: the loader, the CLI and the pipeline run for real;
only the minutes-long distillation is not repeated (test_fast_embed.py tests that, in an isolated folder)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.space import fast_embedders as fe
from analysis.space import timings
from analysis.space.embedders import HashingEmbedder, default_model_path, embed_rows, load_embeddings, scope_texts

ROOT = Path(__file__).resolve().parents[2]


def _tiny_static(root: Path, dim: int = 16, seed: int = 0) -> Path:
    """A real StaticModel for the packaged MiniLM, saved as the install step saves a distilled one."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    src = default_model_path()
    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    vectors = np.random.default_rng(seed).normal(size=(tok.get_vocab_size(), dim)).astype(np.float32)
    out = root / (fe.model_name(None) + "-static")
    StaticModel(vectors, tok, normalize=True).save_pretrained(str(out))
    (out / "sift.json").write_text(json.dumps({"source": fe._source_signature(src), "model_path": str(src)}))
    return out


def _no_distill(*_a: object, **_k: object) -> None:
    raise AssertionError("distilled on a fresh SIFT_HOME although a prebuilt model exists")


@pytest.fixture
def prebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "prebuilt"
    _tiny_static(root)
    monkeypatch.setenv(fe.PREBUILT_ENV, str(root))
    return root


def _chat(path: Path, n: int = 80) -> Path:
    topics = ["bake bread with flour and yeast", "fix a python import error", "plant basil in a sunny pot",
              "tune a guitar string by ear"]
    with path.open("w") as fh:
        for i in range(n):
            t = topics[i % len(topics)]
            fh.write(json.dumps({"messages": [{"role": "user", "content": f"How do I {t}? (question {i})"},
                                              {"role": "assistant", "content": f"To {t}, start small; step {i}."}]})
                     + "\n")
    return path


# ------------------------------------------------------------------------------------------------ where models live


def test_prebuilt_location_is_inside_the_environment_and_overridable(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    import sys

    monkeypatch.delenv(fe.PREBUILT_ENV, raising=False)
    assert fe.prebuilt_dir() == Path(sys.prefix) / "share" / "sift" / "models"
    monkeypatch.setenv(fe.PREBUILT_ENV, str(tmp_path))
    assert fe.model_roots() == [tmp_path, fe.models_dir()]


def test_loader_prefers_the_prebuilt_model(prebuilt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = _tiny_static(fe.models_dir(), seed=1)  # a different model in $SIFT_HOME/models: must not be the one used
    assert fe.find_static() == prebuilt / own.name
    emb = fe.StaticEmbedder.load()
    from model2vec import StaticModel

    want = StaticModel.from_pretrained(str(prebuilt / own.name)).encode(["bake bread"])
    got = emb(["bake bread"])
    np.testing.assert_allclose(got[0], want[0] / np.linalg.norm(want[0]), rtol=1e-5)


def test_fresh_sift_home_loads_static_without_distilling(prebuilt: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import model2vec.distill

    monkeypatch.setattr(model2vec.distill, "distill", _no_distill)
    assert not fe.models_dir().exists()  # conftest's SIFT_HOME is new
    assert fe.model_ready("static") and fe.model_ready("minilm")
    vecs = fe.load_embedder_by_kind("static")(["hello", "plant basil"])
    assert vecs.shape == (2, 16)
    assert not fe.models_dir().exists()  # nothing built or copied into SIFT_HOME


def test_missing_model_is_not_ready_and_the_cli_builds_it_as_a_named_timed_step(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No prebuilt model: `sift analyze --embed --embedder static` builds it as step prepare_model:static, with a
    progress line, before embedding. (The build is the real distill_static's contract, stood in for by writing the
    model where it writes one: the real distillation takes minutes and has its own test in test_fast_embed.py.)"""
    from analysis.cli import StderrProgress, main

    monkeypatch.setenv(fe.PREBUILT_ENV, str(tmp_path / "empty"))
    assert not fe.model_ready("static")
    built: list[Path] = []

    def fake_distill(model_path: object = None, *, pca_dims: int = 256, root: Path | None = None) -> Path:
        found = fe.find_static() if root is None else None
        if found is not None:  # as the real one: what is built is reused
            return found
        time.sleep(2.6)  # heartbeats every 0.5 s: at least 3 lines whatever the load
        built.append(_tiny_static(root or fe.models_dir()))
        return built[-1]

    monkeypatch.setattr(fe, "distill_static", fake_distill)
    monkeypatch.setattr(StderrProgress, "PLAIN_INTERVAL", 0.2)
    data = _chat(tmp_path / "chat.jsonl")
    code = main(["analyze", str(data), "--workspace", str(tmp_path / "ws"), "--embed", "--embedder", "static",
                 "--progress", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    names = [s["name"] for s in json.loads(out)["steps"]]
    assert names.index("prepare_model:static") < names.index("embed:both"), names
    assert len(built) == 1 and fe.model_ready("static")
    running = [ln for ln in err.splitlines() if ln.startswith("prepare static model: building it once")]
    assert len(running) >= 3, err  # the heartbeat: the step is never silent
    assert re.search(r"^prepare static model: done · (\d+\.\ds|\d+m\d\ds)$", err, re.M), err


# ------------------------------------------------------------------------------------------------ estimates


def test_estimate_absent_before_a_measurement_then_derived_from_the_recorded_rate(tmp_path: Path) -> None:
    import pandas as pd

    from analysis.io import load

    ds = load(str(_chat(tmp_path / "chat.jsonl", 120)))
    rows: pd.DataFrame = ds.rows
    emb = HashingEmbedder(name="hash-test")
    work = {"embed": timings.text_cost(scope_texts(rows, "both"))}
    assert timings.estimate("hash-test", work) is None
    assert timings.describe("hash-test", work) == timings.MEASURING == "first run: measuring"

    t = time.monotonic()
    embed_rows(tmp_path / "ws", rows.iloc[:60], emb, chunk_size=16)
    took = time.monotonic() - t
    entry = timings.measured("hash-test")
    assert entry is not None and 0 < entry["steps"]["embed"]["seconds"] <= took
    assert entry["steps"]["embed"]["units"] == timings.text_cost(scope_texts(rows.iloc[:60], "both"))
    rate = timings.rate("hash-test")
    assert rate is not None
    secs = timings.estimate("hash-test", work)
    assert secs == pytest.approx(work["embed"] / rate)  # the actual rows' cost over this machine's measured rate
    assert timings.describe("hash-test", work).startswith(f"about {timings.format_seconds(secs)} (scaled")
    embed_rows(tmp_path / "ws", rows.iloc[:60], emb, chunk_size=16)  # cached: no new measurement
    assert timings.measured("hash-test") == entry
    assert timings.estimate("hash-test", {"embed": 1.0, "projection": 10.0}) is None  # a step never measured


def test_a_new_map_records_every_step_for_the_next_estimate(tmp_path: Path) -> None:
    from analysis.space.pipeline import AnalyzeOptions, map_work, run_analysis
    from analysis.workspace.folder import Workspace

    ws = Workspace.open(str(_chat(tmp_path / "chat.jsonl")), workspace=str(tmp_path / "ws"))
    emb = HashingEmbedder(name="hash-map")
    work = map_work(ws.dataset.rows, "both", emb.name)
    assert set(work) == {"embed", "knn_index", "projection", "topics"} and work["knn_index"] == 80
    assert timings.estimate(emb.name, work) is None
    run_analysis(ws, AnalyzeOptions(scope="both"), embedder=emb)
    steps = timings.measured(emb.name)["steps"]
    assert set(steps) == set(work)
    secs = timings.estimate(emb.name, work)
    assert secs == pytest.approx(sum(s["seconds"] for s in steps.values()), rel=1e-6)  # same rows: same time
    assert timings.estimate(emb.name, {k: 2 * v for k, v in work.items()}) == pytest.approx(2 * secs, rel=1e-6)
    ws.close()


def test_no_fixed_speed_claims_in_the_embedder_texts() -> None:
    """The Map page's numbers come from timings (tests/app/test_map_time.py); these texts state none."""
    from analysis.cli import build_parser

    texts = list(fe.KIND_HELP.values())
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    analyze = sub.choices["analyze"]
    texts += [a.help or "" for a in analyze._actions if a.dest in ("embed", "embedder")]
    for text in texts:
        assert not re.search(r"~\s*\d|\d+\s*×|\d+(\.\d+)?x faster|rows/s on|texts/s on", text), text[:200]


# ------------------------------------------------------------------------------------------------ progress


def test_cli_progress_prints_while_the_map_and_topics_run(prebuilt: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """UMAP and k-means report nothing while they fit: the CLI's line still moves (slowed here to ~1.5 s each)."""
    from analysis.cli import StderrProgress, main
    from analysis.space import pipeline, projection

    real_project, real_topics = projection.project, pipeline.topics_for

    def slow_project(*a: object, **k: object) -> np.ndarray:
        time.sleep(1.5)
        return real_project(*a, **k)

    def slow_topics(*a: object, **k: object) -> object:
        time.sleep(1.5)
        return real_topics(*a, **k)

    real_embed = fe.StaticEmbedder.__call__

    def slow_embed(self: fe.StaticEmbedder, texts: list[str]) -> np.ndarray:
        time.sleep(0.6)  # one chunk of 80 rows: its time must show on the step's line, not 0.0 s
        return real_embed(self, texts)

    monkeypatch.setattr(projection, "project", slow_project)
    monkeypatch.setattr(pipeline, "topics_for", slow_topics)
    monkeypatch.setattr(fe.StaticEmbedder, "__call__", slow_embed)
    monkeypatch.setattr(StderrProgress, "PLAIN_INTERVAL", 0.2)
    data = _chat(tmp_path / "chat.jsonl")
    code = main(["analyze", str(data), "--workspace", str(tmp_path / "ws"), "--embed", "--embedder", "static",
                 "--progress", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "prepare_model:static" not in [s["name"] for s in json.loads(out)["steps"]]  # prebuilt: no build step
    dur = r"(\d+\.\d)s|(\d+)m(\d\d)s"  # the CLI's durations: 4.2s, 1m05s (numba's first compile can take a minute)
    umap = [m for ln in err.splitlines() if (m := re.fullmatch(rf"map \S+-static@both: UMAP of 80 rows · ({dur})", ln))]
    topics = [ln for ln in err.splitlines() if re.fullmatch(rf"topics both: 80 rows · ({dur})", ln)]
    assert len(umap) >= 3 and len(topics) >= 3, err
    secs = [float(m[2]) if m[2] else 60 * int(m[3]) + int(m[4]) for m in umap]
    assert secs == sorted(secs) and secs[-1] >= 1.0  # elapsed time grows on each line
    assert re.search(rf"^map both: 80 rows in ({dur})", err, re.M), err
    embed = json.loads(out)["steps"][[s["name"] for s in json.loads(out)["steps"]].index("embed:both")]["seconds"]
    shown = re.search(r"^embed both: 80 rows in (\d+\.\d)s", err, re.M)  # well under a minute
    assert embed >= 0.6 and shown and float(shown.group(1)) >= 0.5, err  # the step's time, not 0.0 s


def test_heartbeat_reaches_row_sinks_only_and_stops_with_the_block() -> None:
    from analysis.util.progress import heartbeat

    plain: list[tuple[str, float]] = []
    with heartbeat(lambda m, f: plain.append((m, f)), "map: UMAP", step="map", interval=0.05):
        time.sleep(0.3)
    assert plain == [("map: UMAP", 0.0)]  # the app's bar: one word, from the calling thread only

    class Rows:
        counts_rows = True

        def __init__(self) -> None:
            self.calls: list[str] = []

        def __call__(self, message: str, fraction: float, done: int | None = None, total: int | None = None, *,
                     step: str | None = None, unit: str = "rows") -> None:
            self.calls.append(f"{step}|{message}")

    sink = Rows()
    with heartbeat(sink, "map: UMAP", step="map", interval=0.05):
        time.sleep(0.35)
    n = len(sink.calls)
    assert n >= 4 and set(sink.calls) == {"map|map: UMAP"}
    time.sleep(0.2)
    assert len(sink.calls) == n  # stopped with the block


# ------------------------------------------------------------------------------------------------ one default


def test_one_default_embedder_in_code_help_docs_and_app() -> None:
    from analysis.cli import build_parser
    from components.state import Session

    assert fe.DEFAULT == fe.ACCURATE == "onnx"
    assert Session().embedder == fe.DEFAULT
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    embedder = next(a for a in sub.choices["analyze"]._actions if a.dest == "embedder")
    assert embedder.help.startswith(f"{fe.DEFAULT} (default)")
    assert embedder.default is None  # resolved in cmd_analyze: DEFAULT, or minilm with --engine ray
    docs = (ROOT / "docs" / "cli.md").read_text()
    assert f"`{fe.DEFAULT}` (the default)" in docs
    assert not re.search(r"`(minilm|onnx-int8|static)` \(the default\)", docs)
    assert "default" in fe.KIND_HELP[fe.DEFAULT] and all("default" not in t for k, t in fe.KIND_HELP.items()
                                                         if k != fe.DEFAULT)


def test_cli_default_embeds_with_onnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """No --embedder: the ONNX kind is loaded (its loader stood in for by a hashing embedder of the same name)."""
    from analysis.cli import main

    asked: list[str] = []

    def by_kind(kind: str = fe.DEFAULT, model_path: object = None) -> HashingEmbedder:
        asked.append(kind)
        return HashingEmbedder(name=fe.embedder_name(kind))

    monkeypatch.setattr(fe, "load_embedder_by_kind", by_kind)
    monkeypatch.setattr(fe, "model_ready", lambda kind, model_path=None: True)
    code = main(["analyze", str(_chat(tmp_path / "c.jsonl")), "--workspace", str(tmp_path / "ws"), "--embed",
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert asked == ["onnx"] and json.loads(out)["embeddings"] == "all-MiniLM-L6-v2-onnx"


def test_workspace_embedded_with_minilm_is_found_by_the_onnx_default(tmp_path: Path) -> None:
    """A workspace built when minilm was the default: its vectors are the onnx vectors (identical), so the new
    default finds them instead of embedding again; int8 and static vectors differ and are not shared."""
    from analysis.io import load

    rows = load(str(_chat(tmp_path / "c.jsonl", 40))).rows
    ids = rows["row_id"].to_numpy()
    vecs = embed_rows(tmp_path / "ws", rows, HashingEmbedder(name="all-MiniLM-L6-v2"))
    np.testing.assert_array_equal(load_embeddings(tmp_path / "ws", fe.embedder_name("onnx"), "both", ids), vecs)
    for kind in ("onnx-int8", "static"):
        assert load_embeddings(tmp_path / "ws", fe.embedder_name(kind), "both", ids) is None
    messages: list[str] = []
    again = embed_rows(tmp_path / "ws", rows, HashingEmbedder(name=fe.embedder_name("onnx")),
                       progress=lambda m, f: messages.append(m))
    np.testing.assert_array_equal(again, vecs)
    assert messages == ["embeddings all-MiniLM-L6-v2-onnx@both: cached (the same vectors, computed earlier as "
                        "all-MiniLM-L6-v2)"]
