"""Never compute on empty text (issue 13, point 2) and checks that use the embedder they are given (point 7).

Real files: TruthfulQA's CSV (its text in `Question`, no known schema), MT-Bench's question.jsonl (text in `turns`,
a list of user strings) and LLaMA-Factory's Alpaca demo as training data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from analysis.checks import CheckContext, run_checks
from analysis.checks.semantic_duplicate import with_model
from analysis.cli import main
from analysis.io import LoadOptions, load
from analysis.io.text_guard import (
    MIN_TEXT_SHARE,
    NoTextError,
    TextCoverage,
    role_for,
    suggest_for_files,
    suggest_text_column,
    text_coverage,
)
from analysis.space.embedders import HashingEmbedder, embed_rows
from analysis.space.pipeline import AnalyzeOptions, embed_reference, run_analysis, run_coverage
from analysis.space.topics import TopicParams
from analysis.workspace.folder import Workspace

ROOT = Path(__file__).resolve().parents[2]


class NeverCalled(HashingEmbedder):
    """An embedder that fails the test if anything is embedded (the guard must stop first)."""

    def __call__(self, texts):  # noqa: ANN001, ANN204
        raise AssertionError(f"embedded {len(texts)} texts")


@pytest.fixture
def truthfulqa(shared: Path) -> Path:
    return shared / "truthfulqa" / "TruthfulQA.csv"


@pytest.fixture
def mt_bench(shared: Path) -> Path:
    return shared / "fastchat" / "mt_bench" / "question.jsonl"


# ------------------------------------------------------------------------------------------------ detection

def test_suggest_text_column_by_name_and_by_length() -> None:
    tqa = [{"Type": "Adversarial", "Category": "Misconceptions", "Question": "What happens if you eat seeds?",
            "Best Answer": "Nothing happens", "Source": "https://example.org/a-very-long-url-indeed"}] * 5
    s = suggest_text_column(tqa)
    assert (s.role, s.column, s.mapping) == ("prompt", "Question", {"prompt": "Question"})
    assert "question-like" in s.why
    mt = [{"question_id": 81, "category": "writing", "turns": ["Compose a blog post.", "Rewrite it."]}] * 3
    assert suggest_text_column(mt).mapping == {"prompt": "turns"}
    docs = [{"id": 1, "body_text": "A long passage of text " * 5, "tag": "x"}] * 3
    assert suggest_text_column(docs).mapping == {"text": "body_text"}  # the only text-like name
    longest = [{"a": "short label", "b": "a much, much longer string that is obviously the text of the row"}] * 3
    assert suggest_text_column(longest).mapping == {"text": "b"}
    # two columns of similar length and no telling name: not clear, so no guess
    assert suggest_text_column([{"a": "x" * 40, "b": "y" * 35}] * 3) is None
    assert suggest_text_column([{"n": 1, "m": 2.0}] * 3) is None
    assert role_for("text") == "text" and role_for("Question") == "prompt" and role_for("content") == "text"


def test_suggest_for_files_only_for_unmapped_tables() -> None:
    table = [{"Question": "What is the capital of France?", "Type": "x"}]
    alpaca = [{"instruction": "Say hi", "input": "", "output": "hi"}]
    assert suggest_for_files([table, table]).column == "Question"
    assert suggest_for_files([table, alpaca]) is None  # one mapping for every file: only when all are tables
    assert suggest_for_files([alpaca]) is None
    assert suggest_for_files([[]]) is None


def test_text_coverage_threshold(truthfulqa: Path) -> None:
    rows = load(truthfulqa).rows
    cov = text_coverage(rows, "both")
    assert (cov.with_text, cov.rows, cov.ok) == (0, 817, False)
    mapped = load(truthfulqa, LoadOptions(mapping={"prompt": "Question"})).rows
    assert text_coverage(mapped, "both").ok and text_coverage(mapped, "prompt").with_text == 817
    assert not text_coverage(mapped, "response").ok  # a question-only mapping has no responses to embed
    assert TextCoverage("both", 50, 100).ok and not TextCoverage("both", 49, 100).ok
    assert MIN_TEXT_SHARE == 0.5


# ------------------------------------------------------------------------------------------------ library

def test_run_analysis_refuses_an_unmapped_table_before_embedding(truthfulqa: Path, tmp_path: Path) -> None:
    ws = Workspace.open(str(truthfulqa), LoadOptions(kind="table"), workspace=tmp_path / "ws")
    with pytest.raises(NoTextError, match=r"0 of 817 rows have any text.*`sift analyze PATH --map prompt=Question`"):
        run_analysis(ws, AnalyzeOptions(), embedder=NeverCalled())
    assert not (tmp_path / "ws" / "embeddings").exists()


def test_reference_auto_mapped_gives_real_coverage(shared: Path, mt_bench: Path, tmp_path: Path) -> None:
    """MT-Bench as a reference: its `turns` are read (with a notice), so coverage has real topics and keywords,
    not one empty topic with every reference row at the same similarity."""
    ws = Workspace.open(str(shared / "llamafactory_demo" / "alpaca_en_demo.json"), workspace=tmp_path / "ws")
    emb = HashingEmbedder()
    # coverage reads the training vectors and scope only: no map (UMAP) is needed for it
    analysis = SimpleNamespace(vectors=embed_rows(ws.dir, ws.dataset.rows, emb, scope="both"), scope="both")
    ref = embed_reference(ws, str(mt_bench), emb, "both")
    if ref.mapping is not None:  # before MT-Bench's shape is detected by the loader, Sift maps `turns` itself
        assert ref.mapping == {"prompt": "turns"} and "turns" in ref.notice
    assert text_coverage(ref.rows, "both").with_text == 80
    report = run_coverage(ws, analysis, ref, params=TopicParams(k=12))
    assert len(report.per_topic) > 1
    assert all(len(k) for k in report.per_topic["keywords"])
    assert report.farthest["similarity"].nunique() > 10
    # an explicit mapping is used as given, with no notice
    ref2 = embed_reference(ws, str(mt_bench), emb, "both", options=LoadOptions(mapping={"prompt": "turns"}))
    assert ref2.mapping == {"prompt": "turns"} and ref2.notice is None


def test_reference_without_text_in_scope_stops(shared: Path, mt_bench: Path, tmp_path: Path) -> None:
    ws = Workspace.open(str(shared / "llamafactory_demo" / "alpaca_en_demo.json"), workspace=tmp_path / "ws")
    with pytest.raises(NoTextError, match=r"question.jsonl: 0 of 80 rows have response text.*map the reference"):
        embed_reference(ws, str(mt_bench), NeverCalled(), "response")
    with pytest.raises(NoTextError, match=r"0 of 80 rows have any text.*read as 'table'.*category"):
        embed_reference(ws, str(mt_bench), NeverCalled(), "both", options=LoadOptions(kind="table"))


def test_embedding_checks_compute_with_the_embedder_given(tmp_path: Path, write_jsonl) -> None:  # noqa: ANN001
    rows = load(write_jsonl("d.jsonl", [{"instruction": "How do I boil an egg?", "output": "Ten minutes."},
                                        {"instruction": "How do I boil an egg?", "output": "Ten minutes."},
                                        {"instruction": "What is a black hole?", "output": "Gravity."}])).rows
    emb = HashingEmbedder(name="hash-kind")
    params = {n: with_model(n, {}, emb.name) for n in ("semantic_duplicate", "outlier", "contamination")}
    assert params == {"semantic_duplicate": {"model": "hash-kind"}, "outlier": {"model": "hash-kind"},
                      "contamination": {}}  # contamination reads embeddings only with `paraphrase`
    assert with_model("contamination", {"paraphrase": 0.9}, "m") == {"paraphrase": 0.9, "model": "m"}
    assert with_model("outlier", {"model": "mine"}, "m") == {"model": "mine"}  # a named model is kept
    ctx = CheckContext(rows, tmp_path, extras={"embedder": emb})
    out = run_checks(rows, ["semantic_duplicate", "outlier"], ws_dir=tmp_path, params=params, ctx=ctx)
    assert out["semantic_duplicate"].summary["model"] == "hash-kind"
    assert (tmp_path / "embeddings" / "hash-kind@both.npy").is_file()
    assert out["semantic_duplicate"].rows_flagged == 1


# ------------------------------------------------------------------------------------------------ CLI

def test_cli_unmapped_table_exits_2_naming_the_mapping(truthfulqa: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ws = tmp_path / "ws"
    code = main(["analyze", str(truthfulqa), "--kind", "table", "--embed", "--workspace", str(ws)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "0 of 817 rows have any text" in err and "`--map prompt=Question`" in err and "--text COLUMN" in err
    assert not (ws / "embeddings").exists()
    code = main(["analyze", str(truthfulqa), "--kind", "table", "--checks", "length", "--workspace", str(ws)])
    assert code == 2 and "so the checks would describe empty strings" in capsys.readouterr().err


def test_cli_auto_maps_with_a_notice_and_text_overrides(truthfulqa: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code = main(["analyze", str(truthfulqa), "--workspace", str(tmp_path / "a"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["rows"] == 817
    assert err == ("sift analyze: TruthfulQA.csv has no known schema; reading column 'Question' as the prompt (a "
                   "question-like name, text in 200 of 200 records read). Override: --text COLUMN, or --map "
                   "ROLE=COLUMN,...\n")
    assert Workspace.from_dir(tmp_path / "a").dataset.info.options.mapping == {"prompt": "Question"}
    code = main(["analyze", str(truthfulqa), "--text", "Best Answer", "--workspace", str(tmp_path / "b"), "--json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    ds = Workspace.from_dir(tmp_path / "b").dataset
    assert ds.info.options.mapping == {"prompt": "Best Answer"}
    assert ds.rows["prompt"].iloc[0] == "The watermelon seeds pass through your digestive system"
    assert main(["info", str(truthfulqa), "--text", "Question", "--map", "prompt=Question"]) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_reference_map_and_bad_reference(shared: Path, mt_bench: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """--reference-map is applied as given; a reference without text stops before any model loads."""
    train = shared / "llamafactory_demo" / "alpaca_en_demo.json"
    code = main(["analyze", str(train), "--workspace", str(tmp_path / "ws"), "--reference", str(mt_bench),
                 "--reference-map", "response=turns", "--scope", "prompt"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("sift analyze: error: question.jsonl: 0 of 80 rows have prompt text")
    assert err.rstrip().endswith("`--reference-map prompt=turns`, or another scope (both)")
    assert not (tmp_path / "ws" / "embeddings").exists()


def _sift(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SIFT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "analysis", *argv], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900, check=False)


def test_cli_subprocess_truthfulqa_table_exits_2(truthfulqa: Path, tmp_path: Path) -> None:
    run = _sift("analyze", str(truthfulqa), "--embed", "--kind", "table", home=tmp_path)
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr.startswith("sift analyze: error: TruthfulQA.csv: 0 of 817 rows have any text")
    assert run.stderr.count("\n") == 1


@pytest.mark.slow
def test_cli_subprocess_truthfulqa_real_model_embeds_questions(truthfulqa: Path, tmp_path: Path) -> None:
    """The real model, end to end: `sift analyze TruthfulQA.csv --embed` maps `Question` with a notice and embeds
    817 questions, with nothing else on stderr (no warning, no third-party progress bar)."""
    run = _sift("analyze", str(truthfulqa), "--embed", "--json", home=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [line for line in run.stderr.splitlines() if "reading column 'Question'" in line]
    doc = json.loads(run.stdout)
    assert doc["topics"] > 1 and doc["embeddings"] == "all-MiniLM-L6-v2-onnx"  # the default embedder: MiniLM via ONNX
    vecs = np.load(Path(doc["workspace"]) / "embeddings" / "all-MiniLM-L6-v2-onnx@both.npy")
    assert len(vecs) == 817 and len(np.unique(vecs.round(4), axis=0)) > 800  # not 817 copies of one empty string


@pytest.fixture(scope="module")
def static_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One SIFT_HOME whose static model is distilled once for the module (minutes on a busy machine)."""
    yield tmp_path_factory.mktemp("static_home")


@pytest.mark.slow
def test_cli_checks_use_and_compute_the_static_embeddings(static_home: Path, tmp_path: Path, write_jsonl) -> None:  # noqa: ANN001
    data = write_jsonl("d.jsonl", [{"instruction": f"Question number {i} about topic {i % 7}?",
                                    "output": f"Answer {i}."} for i in range(40)])
    ws = tmp_path / "ws"
    run = _sift("analyze", str(data), "--workspace", str(ws), "--checks", "semantic_duplicate,outlier",
                "--embedder", "static", "--json", home=static_home)
    assert run.returncode == 0, run.stderr
    assert set(json.loads(run.stdout)["checks"]) == {"semantic_duplicate", "outlier"}
    assert (ws / "embeddings" / "all-MiniLM-L6-v2-static@both.npy").is_file()
    assert not (ws / "embeddings" / "all-MiniLM-L6-v2@both.npy").exists()
    run = _sift("findings", str(ws), "--json", home=static_home)
    models = {c["name"]: c["params"].get("model") for c in json.loads(run.stdout)["checks"]}
    assert models == {"semantic_duplicate": "all-MiniLM-L6-v2-static", "outlier": "all-MiniLM-L6-v2-static"}
    # --embed with the same embedder, then the checks: the embeddings just made are read, never MiniLM's
    run = _sift("analyze", str(data), "--workspace", str(ws), "--embed", "--embedder", "static", "--checks",
                "semantic_duplicate", "--json", home=static_home)
    assert run.returncode == 0, run.stderr
