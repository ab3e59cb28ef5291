"""Embeddings: scope texts, the chunked resumable cache (including a real SIGKILL mid-run), and the real MiniLM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.io import load
from analysis.space.embedders import (
    DEFAULT_MODEL,
    HashingEmbedder,
    embed_rows,
    embeddings_path,
    load_embedder,
    load_embeddings,
    scope_texts,
)

ROOT = Path(__file__).resolve().parents[2]


class Counting:
    """Wraps an embedder and counts the calls and rows it sees: proves what the cache saved."""

    def __init__(self, inner: Callable[[Sequence[str]], np.ndarray] | HashingEmbedder) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[union-attr]
        self.dim = inner.dim  # type: ignore[union-attr]
        self.calls = 0
        self.rows = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.rows += len(texts)
        return self.inner(texts)


def synthetic_rows(n: int) -> pd.DataFrame:
    """Canonical-shaped rows with distinct, topic-sharing texts."""
    topics = ["apples and pears", "river flooding", "tax law", "python code", "chess openings", "sourdough bread"]
    prompts = [f"Question {i}: tell me about {topics[i % len(topics)]}, case {i // len(topics)}" for i in range(n)]
    responses = [f"Answer {i}: {topics[(i * 7) % len(topics)]} matter" for i in range(n)]
    messages = [[{"role": "user", "content": p, "tool_call": False},
                 {"role": "assistant", "content": r, "tool_call": False}]
                for p, r in zip(prompts, responses, strict=True)]
    return pd.DataFrame({"row_id": np.arange(n, dtype=np.int64), "kind": "chat", "messages": messages,
                         "prompt": prompts, "response": responses})


# ------------------------------------------------------------------------------------------------ fake embedder


def test_hashing_embedder_shapes_unit_norm_and_determinism() -> None:
    emb = HashingEmbedder(dim=128)
    texts = ["the cat sat on the mat", "", "the cat sat on a mat", "quantum chromodynamics"]
    a, b = emb(texts), HashingEmbedder(dim=128)(texts)
    assert a.shape == (4, 128) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(a, b)
    assert a[0] @ a[2] > a[0] @ a[3]  # shared words -> closer


def test_embed_rows_shape_unit_norm_and_determinism(tmp_path: Path) -> None:
    rows = synthetic_rows(250)
    a = embed_rows(tmp_path / "a", rows, HashingEmbedder(dim=64), scope="both", chunk_size=64)
    b = embed_rows(tmp_path / "b", rows, HashingEmbedder(dim=64), scope="both", chunk_size=100)
    assert a.shape == (250, 64) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(a, b)  # chunking does not change the result
    assert np.array_equal(a, HashingEmbedder(dim=64)(scope_texts(rows, "both")))
    assert embeddings_path(tmp_path / "a", "hashing", "both").exists()
    assert not (tmp_path / "a" / "embeddings" / "hashing@both.partial").exists()  # pieces cleaned up


def test_chunks_are_cut_longest_first_but_the_result_is_in_row_order(tmp_path: Path) -> None:
    texts = ["a", "a much longer text than the others here", "mid length", "b", "another fairly long one"]
    rows = synthetic_rows(5).assign(prompt=texts)
    calls: list[list[str]] = []

    class Recording(HashingEmbedder):
        def __call__(self, batch: Sequence[str]) -> np.ndarray:
            calls.append(list(batch))
            return super().__call__(batch)

    out = embed_rows(tmp_path, rows, Recording(dim=16), scope="prompt", chunk_size=2)
    assert calls == [[texts[1], texts[4]], [texts[2], texts[0]], [texts[3]]]  # stable: "a" before "b"
    assert np.array_equal(out, HashingEmbedder(dim=16)(texts))


def test_scopes_are_cached_separately(tmp_path: Path) -> None:
    rows = synthetic_rows(50)
    p = embed_rows(tmp_path, rows, HashingEmbedder(dim=32), scope="prompt")
    r = embed_rows(tmp_path, rows, HashingEmbedder(dim=32), scope="response")
    assert not np.array_equal(p, r)
    assert {f.name for f in (tmp_path / "embeddings").glob("*.npy")} == {"hashing@prompt.npy", "hashing@response.npy"}


def test_empty_dataset(tmp_path: Path) -> None:
    out = embed_rows(tmp_path, synthetic_rows(0), HashingEmbedder(dim=16), scope="prompt")
    assert out.shape == (0, 16)


def test_scope_texts_for_sft_chat_and_preference_rows(write_jsonl: Callable[..., Path]) -> None:
    sft = load(write_jsonl("sft.jsonl", [{"instruction": "Add the numbers", "input": "2 and 3", "output": "5"}])).rows
    chat = load(write_jsonl("chat.jsonl", [{"messages": [
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris"}]}])).rows
    pref = load(write_jsonl("pref.jsonl", [{"prompt": "Name a colour", "chosen": "Blue", "rejected": "Seven"}])).rows

    assert scope_texts(sft, "prompt") == ["Add the numbers\n\n2 and 3"]
    assert scope_texts(sft, "response") == ["5"]
    assert scope_texts(sft, "both") == ["user: Add the numbers\n\n2 and 3\n\nassistant: 5"]

    assert scope_texts(chat, "prompt") == [
        "system: Be terse.\n\nuser: Hi\n\nassistant: Hello\n\nuser: Capital of France?"]
    assert scope_texts(chat, "response") == ["Paris"]
    assert scope_texts(chat, "both") == [
        "system: Be terse.\n\nuser: Hi\n\nassistant: Hello\n\nuser: Capital of France?\n\nassistant: Paris"]

    # preference: the shared context is the prompt, the chosen answer is the response
    assert scope_texts(pref, "prompt") == ["Name a colour"]
    assert scope_texts(pref, "response") == ["Blue"]
    assert scope_texts(pref, "both") == ["user: Name a colour\n\nassistant: Blue"]

    with pytest.raises(ValueError, match="unknown scope"):
        scope_texts(sft, "everything")


def test_scope_both_accepts_parquet_style_turn_arrays_and_missing_values() -> None:
    rows = synthetic_rows(3)
    as_arrays = rows.assign(messages=[np.array(m, dtype=object) for m in rows["messages"]])
    assert scope_texts(as_arrays, "both") == scope_texts(rows, "both")
    holes = rows.assign(messages=[[], None, rows["messages"][2]], prompt=[None, "x", "y"])
    assert scope_texts(holes, "both")[:2] == ["", ""]
    assert scope_texts(holes, "prompt")[0] == ""


# ------------------------------------------------------------------------------------------------ the cache


def test_cache_hit_makes_zero_embedder_calls(tmp_path: Path) -> None:
    rows = synthetic_rows(120)
    first = Counting(HashingEmbedder(dim=32))
    a = embed_rows(tmp_path, rows, first, scope="prompt", chunk_size=50)
    assert (first.calls, first.rows) == (3, 120)

    again = Counting(HashingEmbedder(dim=32))
    messages: list[tuple[str, float]] = []
    b = embed_rows(tmp_path, rows, again, scope="prompt", chunk_size=50, progress=lambda m, f: messages.append((m, f)))
    assert again.calls == 0
    assert np.array_equal(a, b)
    assert messages == [("embeddings hashing@prompt: cached", 1.0)]
    loaded = load_embeddings(tmp_path, "hashing", "prompt", rows["row_id"].to_numpy())
    assert loaded is not None and np.array_equal(loaded, a)


def test_stale_cache_when_row_ids_change(tmp_path: Path) -> None:
    rows = synthetic_rows(100)
    embed_rows(tmp_path, rows, HashingEmbedder(dim=32), scope="prompt")
    fewer = rows.iloc[10:].reset_index(drop=True)  # e.g. the file changed: other row ids
    assert load_embeddings(tmp_path, "hashing", "prompt", fewer["row_id"].to_numpy()) is None
    counting = Counting(HashingEmbedder(dim=32))
    out = embed_rows(tmp_path, fewer, counting, scope="prompt")
    assert counting.rows == 90 and out.shape == (90, 32)
    assert np.array_equal(out, HashingEmbedder(dim=32)(fewer["prompt"].tolist()))
    meta = json.loads(embeddings_path(tmp_path, "hashing", "prompt").with_suffix(".json").read_text())
    assert meta["n_rows"] == 90


def test_partial_chunks_from_other_settings_are_discarded(tmp_path: Path) -> None:
    rows = synthetic_rows(100)
    partial = tmp_path / "embeddings" / "hashing@prompt.partial"
    partial.mkdir(parents=True)
    (partial / "meta.json").write_text(json.dumps({"model": "hashing", "chunk_size": 7}))
    np.save(partial / "chunk_000000.npy", np.zeros((7, 32), dtype=np.float32))  # would poison the result
    out = embed_rows(tmp_path, rows, HashingEmbedder(dim=32), scope="prompt", chunk_size=25)
    assert np.array_equal(out, HashingEmbedder(dim=32)(rows["prompt"].tolist()))


def test_progress_reports_rate_and_eta(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    embed_rows(tmp_path, synthetic_rows(100), HashingEmbedder(dim=16), scope="prompt", chunk_size=40,
               progress=lambda m, f: seen.append((m, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "rows/s" in seen[0][0] and "ETA" in seen[0][0]


@pytest.mark.parametrize("bad", [lambda texts: np.zeros((len(texts), 8), dtype=np.float32),
                                 lambda texts: np.zeros((max(len(texts) - 1, 0), 16), dtype=np.float32)],
                         ids=["wrong-dim", "wrong-count"])
def test_bad_embedder_shape_is_a_clear_error(tmp_path: Path, bad: Callable[[Sequence[str]], np.ndarray]) -> None:
    class Bad:
        name, dim = "bad", 16

        def __call__(self, texts: Sequence[str]) -> np.ndarray:
            return bad(texts)

    with pytest.raises(ValueError, match=r"embedder bad returned shape .* expected \(10, 16\)"):
        embed_rows(tmp_path, synthetic_rows(10), Bad(), scope="prompt")
    assert load_embeddings(tmp_path, "bad", "prompt") is None


def test_load_embedder_rejects_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a sentence-transformers model folder"):
        load_embedder(tmp_path)


# ------------------------------------------------------------------------------------------------ kill and resume

_SLOW_EMBED = """
import sys, time
from pathlib import Path
import pandas as pd
from analysis.space.embedders import HashingEmbedder, embed_rows

class Slow(HashingEmbedder):
    def __call__(self, texts):
        time.sleep(0.15)
        return super().__call__(texts)

rows = pd.read_pickle(sys.argv[1])
embed_rows(Path(sys.argv[2]), rows, Slow(dim=64), scope="prompt", chunk_size=100)
"""


def test_killed_embedding_resumes_from_the_last_finished_chunk(tmp_path: Path) -> None:
    n, chunk = 3000, 100
    rows = synthetic_rows(n)
    rows.to_pickle(tmp_path / "rows.pkl")
    ws = tmp_path / "ws"
    partial = ws / "embeddings" / "hashing@prompt.partial"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_EMBED, str(tmp_path / "rows.pkl"), str(ws)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(list(partial.glob("chunk_*.npy"))) < 2:
            if proc.poll() is not None:
                pytest.fail(f"embedding process ended early: {proc.communicate()[1].decode()[-2000:]}")
            assert time.monotonic() < deadline, "no chunks written within 60 s"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    chunks = sorted(partial.glob("chunk_*.npy"))
    k = len(chunks)
    assert 2 <= k < n // chunk
    assert [c.name for c in chunks] == [f"chunk_{i:06d}.npy" for i in range(k)]  # in order, no gaps
    for c in chunks:  # atomic writes: every finished chunk is whole
        assert np.load(c).shape == (chunk, 64)
    assert not embeddings_path(ws, "hashing", "prompt").exists()

    counting = Counting(HashingEmbedder(dim=64))
    resumed = embed_rows(ws, rows, counting, scope="prompt", chunk_size=chunk)
    assert counting.rows == n - k * chunk
    assert counting.calls == n // chunk - k

    scratch = embed_rows(tmp_path / "scratch", rows, HashingEmbedder(dim=64), scope="prompt", chunk_size=chunk)
    assert np.array_equal(resumed, scratch)
    assert not partial.exists()


# ------------------------------------------------------------------------------------------------ the real model


@pytest.mark.slow
def test_real_embedder_gives_384d_unit_vectors(real_embedder) -> None:
    assert real_embedder.name == DEFAULT_MODEL and real_embedder.dim == 384
    vecs = real_embedder(["How do I bake bread?", "", "Ünïcödé and emoji 🍉 work too"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_real_embedder_puts_paraphrases_closer_than_unrelated_text(real_embedder) -> None:
    triples = [
        ("How do I bake bread at home?", "What's the way to make a loaf of bread in my own kitchen?",
         "The central bank raised interest rates again."),
        ("Can you get sick from eating watermelon seeds?", "Is swallowing watermelon seeds bad for your health?",
         "Write a Python function that reverses a linked list."),
        ("Translate 'good morning' into French.", "How do you say 'good morning' in French?",
         "What is the boiling point of water at sea level?"),
    ]
    for anchor, para, unrelated in triples:
        a, p, u = real_embedder([anchor, para, unrelated])
        assert a @ p > a @ u + 0.2, (anchor, float(a @ p), float(a @ u))


@pytest.mark.slow
def test_explicit_default_path_shares_the_default_cache_name() -> None:
    from analysis.space.embedders import default_model_path

    assert load_embedder(default_model_path()).name == DEFAULT_MODEL


@pytest.mark.slow
def test_truthfulqa_embeddings(truthfulqa) -> None:
    vecs = truthfulqa["vectors"]
    assert vecs.shape == (817, 384) and vecs.dtype == np.float32
    assert np.isfinite(vecs).all()
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    cached = load_embeddings(truthfulqa["ws"], DEFAULT_MODEL, "prompt", truthfulqa["rows"]["row_id"].to_numpy())
    assert cached is not None and np.array_equal(cached, vecs)


@pytest.mark.slow
def test_another_local_model_folder_gets_its_own_cache(tmp_path: Path) -> None:
    """Any local sentence-transformers folder can be chosen; its embeddings are cached under its own name."""
    import shutil

    from analysis.space.embedders import default_model_path, load_embedder, model_name

    folder = tmp_path / "my-minilm"
    shutil.copytree(default_model_path(), folder)
    assert model_name(None) == "all-MiniLM-L6-v2" == model_name(default_model_path())
    name = model_name(folder)
    assert name.startswith("my-minilm-") and name != "all-MiniLM-L6-v2"
    emb = load_embedder(folder)
    assert emb.name == name and emb.dim == 384
    rows = pd.DataFrame({"row_id": [0, 1], "prompt": ["a", "b"], "response": ["c", "d"],
                         "messages": [[], []]})
    vecs = embed_rows(tmp_path / "ws", rows, emb, scope="prompt")
    assert (tmp_path / "ws" / "embeddings" / f"{name}@prompt.npy").exists() and vecs.shape == (2, 384)
