"""near_duplicate and semantic_duplicate: reason codes, keep rules, the sample's planted duplicates, real data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import ROOT, SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.checks import CheckContext, run_checks
from analysis.checks.near_duplicate import (
    NearDuplicate,
    centre_clusters,
    lsh_candidates,
    minhash_signatures,
    optimal_bands,
    shingle_sets,
    true_jaccard,
)
from analysis.checks.semantic_duplicate import SemanticDuplicate
from analysis.io import load
from analysis.space.embedders import HashingEmbedder, embed_rows

SAMPLE = ROOT / "sample_data"
DEFECTS = json.loads((SAMPLE / "defects.json").read_text())
PLANTED = {d["row_id"]: d["of"] for d in DEFECTS["near_duplicate"] + DEFECTS["exact_duplicate"]}

BASE = ("the quick brown fox jumps over the lazy dog while the farmer watches from the porch and drinks "
        "his morning coffee slowly")
NEAR = BASE.replace("lazy dog", "sleepy dog")  # 3 of 20 trigrams change: Jaccard 17/23 = 0.74
FAR = "completely different words about taxes and the annual budget of a small town council meeting"


def rows_of(write_jsonl, records, name="d.jsonl"):
    return load(write_jsonl(name, records)).rows


def one(rows, name, ctx=None, **params):
    return run_checks(rows, [name], params={name: params} if params else None, ctx=ctx)[name]


def flagged(rows, result):
    return {int(rows["row_id"].iloc[i]): str(result.reason[i]) for i in np.flatnonzero(result.is_issue)}


def hashing_ctx(rows):
    return CheckContext(rows, None, {"embedder": HashingEmbedder()})


@pytest.fixture(scope="module")
def sample():
    return load(str(SAMPLE / "*.jsonl")).rows


def groups_ok(result):
    """Groups partition the flagged + kept rows, each group has exactly one kept member, kept rows are unflagged."""
    g = result.group_id
    assert set(np.flatnonzero(g >= 0)) == set(np.flatnonzero(result.is_issue | result.keep))
    assert not (result.keep & result.is_issue).any()
    for gid in np.unique(g[g >= 0]):
        members = g == gid
        assert result.keep[members].sum() == 1 and members.sum() >= 2
    assert result.summary["rows_removable"] == int(result.is_issue.sum())


# --- near_duplicate: mechanics -----------------------------------------------------------------------------------

def test_shingles_short_text_fallback_and_empty():
    hashes, offsets = shingle_sets(["one two three four", "say hi", "", "Say, HI!"], ngram=3)
    sizes = np.diff(offsets)
    assert sizes.tolist() == [2, 1, 0, 1]  # 4 words -> 2 trigrams; 2 words -> one shingle of both; empty -> none
    assert hashes[offsets[1]] == hashes[offsets[3]]  # punctuation and case do not matter


def test_minhash_estimates_jaccard_and_optimal_bands():
    hashes, offsets = shingle_sets([BASE, NEAR, FAR], ngram=3)
    true = true_jaccard(hashes, offsets, np.array([[0, 1], [0, 2]]))
    assert true[0] == pytest.approx(17 / 23) and true[1] < 0.1
    sig = minhash_signatures(hashes, offsets, 256)
    assert abs((sig[0] == sig[1]).mean() - true[0]) < 0.12
    assert (sig[0] == sig[2]).mean() < 0.1
    assert optimal_bands(0.5, 128) == (25, 5)  # datasketch MinHashLSH(threshold=0.5, num_perm=128) picks b=25, r=5
    b, r = optimal_bands(0.7, 128)
    assert b * r <= 128
    assert lsh_candidates(sig, 32, 8).tolist() == [[0, 1]]


def test_near_duplicate_reason_score_and_false_positive_filter(write_jsonl):
    rows = rows_of(write_jsonl, [{"instruction": BASE, "output": "ok"}, {"instruction": FAR, "output": "ok"},
                                 {"instruction": NEAR, "output": "ok"}, {"instruction": "", "output": ""},
                                 {"instruction": "", "output": ""}])
    r = one(rows, "near_duplicate", scope="prompt")
    assert flagged(rows, r) == {2: "dup_of:0"}
    assert r.score[2] == pytest.approx(17 / 23) and r.score[0] == 0
    assert r.keep.tolist() == [True, False, False, False, False]  # empty texts are never duplicates
    # above the pair's true Jaccard nothing is flagged, even though MinHash may still make it a candidate
    assert one(rows, "near_duplicate", scope="prompt", threshold=0.75).rows_flagged == 0
    hist = r.summary["jaccard_histogram"]
    assert len(hist["counts"]) == 10 and hist["edges"][0] == 0.5 and sum(hist["counts"]) == 1
    assert r.summary["removed_by_threshold"]["0.70"] == 1 and r.summary["removed_by_threshold"]["0.75"] == 0
    assert r.summary["pairs"] == [{"a": 0, "b": 2, "jaccard": round(17 / 23, 4)}]


def test_near_duplicate_scopes_and_no_chained_groups(write_jsonl):
    recs = [{"messages": [{"role": "user", "content": BASE}, {"role": "assistant", "content": "answer one"}]},
            {"messages": [{"role": "user", "content": NEAR}, {"role": "assistant", "content": FAR}]},
            {"messages": [{"role": "user", "content": NEAR.replace("farmer", "old farmer")},
                          {"role": "assistant", "content": "answer one"}]}]
    rows = rows_of(write_jsonl, recs)
    # row 2 is near row 1 but not near row 0, the kept row: it is not a duplicate of 0 through 1 (no chains)
    r = one(rows, "near_duplicate", scope="prompt")
    assert flagged(rows, r) == {1: "dup_of:0"}
    assert r.summary["components_split"] == 1 and r.summary["min_similarity_to_kept"] == round(17 / 23, 4)
    # "answer one" (2 words < ngram: one shingle of both words) twice: identical sets, Jaccard 1
    resp = one(rows, "near_duplicate", scope="response", threshold=1.0)
    assert flagged(rows, resp) == {2: "dup_of:0"} and resp.summary["exact_pairs"] == 1 and resp.score[2] == 1.0
    # whole conversations: row 2 changes two places of row 0's prompt, row 1 its whole answer: all below 0.7
    assert one(rows, "near_duplicate", scope="both").rows_flagged == 0
    assert one(rows, "near_duplicate", scope="both", threshold=0.5).rows_flagged == 1
    assert one(rows, "near_duplicate", scope="record").summary["scope"] == "record"


@pytest.mark.parametrize(("rule", "kept"), [("first", 0), ("longest", 2), ("shortest", 1), ("highest_score", 1),
                                             ("most_turns", 2)])
def test_near_duplicate_keep_rules(write_jsonl, rule, kept):
    recs = [{"messages": [{"role": "user", "content": BASE}, {"role": "assistant", "content": "Sure."}],
             "score": 1.0},
            {"messages": [{"role": "user", "content": NEAR}, {"role": "assistant", "content": "ok"}], "score": 9.0},
            {"messages": [{"role": "user", "content": BASE}, {"role": "assistant", "content": "Sure, here."},
                          {"role": "user", "content": "more"}, {"role": "assistant", "content": "Fine then."}],
             "score": None}]
    rows = rows_of(write_jsonl, recs)
    r = one(rows, "near_duplicate", scope="prompt", keep=rule, ngram=3)
    assert int(np.flatnonzero(r.keep)[0]) == kept
    assert set(flagged(rows, r).values()) == {f"dup_of:{kept}"}
    groups_ok(r)


def test_near_duplicate_bad_params():
    with pytest.raises(ValueError, match="scope"):
        NearDuplicate.Params(scope="title")
    with pytest.raises(ValueError, match="keep"):
        NearDuplicate.Params(keep="random")
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicate.Params(threshold=0)


# --- near_duplicate: the sample and real data -----------------------------------------------------------------

def test_near_duplicate_sample_finds_exactly_the_planted(sample):
    """Scope both, defaults: exactly the 10 planted near duplicates and the 12 planted exact duplicates (exact
    duplicates are near duplicates with Jaccard 1), each flagged `dup_of:` its original; no extra group."""
    r = one(sample, "near_duplicate")
    assert flagged(sample, r) == {row: f"dup_of:{of}" for row, of in PLANTED.items()}
    assert r.summary["groups"] == 22 and r.summary["rows_in_groups"] == 44
    for d in DEFECTS["near_duplicate"]:
        pos = sample.index[sample["row_id"] == d["row_id"]][0]
        assert 0.7 <= r.score[pos] < 1.0
    groups_ok(r)


def test_near_duplicate_never_reports_an_lsh_false_positive(sample):
    """Every flagged row's true Jaccard to its group's kept row is >= threshold and is its score (recomputed here):
    no LSH false positive and no chain."""
    for threshold in (0.5, 0.7, 0.9):
        r = one(sample, "near_duplicate", threshold=threshold)
        from analysis.checks.exact_duplicate import scope_texts as texts_of
        hashes, offsets = shingle_sets(texts_of(CheckContext(sample), "both"), 3)
        for i in np.flatnonzero(r.is_issue):
            kept = np.flatnonzero((r.group_id == r.group_id[i]) & r.keep)[0]
            to_kept = true_jaccard(hashes, offsets, np.array([[i, kept]]))[0]
            assert to_kept >= threshold and to_kept == pytest.approx(r.score[i])


def test_near_duplicate_fastchat_prompt_scope():
    """dummy_conversation.json: 500 rows, 52 distinct first turns, but the prompt scope is every turn before the
    last assistant turn (167 rows have 1 prompt turn, 166 have 2 and 167 have 3), so there are 384 distinct prompts:
    exact_duplicate on prompt removes 116, near_duplicate (Jaccard >= 0.7) 399 in 93 groups, because the multi-turn
    prompts share their templated first turn and most of their later turns. (Union-find grouping removed 430 in 68
    groups: 31 rows were only reachable through chains; 10 such components are now cut.) Removing the 448 rows that
    merely share a first turn would be wrong for multi-turn data; the curve shows where that boundary lies."""
    path = SHARED / "fastchat" / "dummy_conversation.json"
    if not path.exists():
        pytest.skip(f"{path} not found")
    rows = load(path).rows
    assert len({m[0]["content"] for m in rows["messages"]}) == 52
    assert rows["prompt"].nunique() == 384
    assert one(rows, "exact_duplicate", scope="prompt").summary["rows_removable"] == 116
    r = one(rows, "near_duplicate", scope="prompt")
    assert r.summary["rows_removable"] == 399 and r.summary["groups"] == 93
    assert r.summary["components_split"] == 10 and r.summary["min_similarity_to_kept"] >= 0.7
    curve = r.summary["removed_by_threshold"]
    assert curve["1.00"] == 116  # Jaccard 1 = exact duplicates (up to punctuation/case), as exact_duplicate finds
    assert list(curve.values()) == sorted(curve.values(), reverse=True)
    groups_ok(r)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 5), min_size=2, max_size=14),
       keep=st.sampled_from(["first", "longest", "shortest", "most_turns"]))
def test_groups_partition_property(write_jsonl, picks, keep):
    """Random mixes of a few near-duplicate texts: groups partition flagged + kept rows, one kept per group."""
    pool = [BASE, NEAR, FAR, FAR + " again", "short one", ""]
    rows = rows_of(write_jsonl, [{"instruction": pool[p], "output": str(p)} for p in picks], name="h.jsonl")
    for name, ctx in (("near_duplicate", None), ("semantic_duplicate", hashing_ctx(rows))):
        r = one(rows, name, ctx=ctx, scope="prompt", keep=keep)
        groups_ok(r)


def chain_texts(links: int) -> list[str]:
    """a→b→c→…: each text swaps one more word block of the last, so neighbours are near and the ends are far apart."""
    words = [f"w{i}" for i in range(40)]
    texts = []
    for step in range(links + 1):  # step k replaces the first 4k words: neighbours differ in 4 words
        texts.append(" ".join(f"x{k}" if k < step * 4 else w for k, w in enumerate(words)))
    return texts


class ArcEmbedder:
    """Row i ("text i") on a unit circle at i steps of arccos(`step`): neighbours at cosine `step`."""

    name, dim = "arc", 2

    def __init__(self, step: float) -> None:
        self.theta = float(np.arccos(step))

    def __call__(self, texts):  # noqa: ANN001, ANN204 - the Embedder protocol
        idx = np.array([int(re.search(r"text (\d+)", t).group(1)) for t in texts]) * self.theta
        return np.stack([np.cos(idx), np.sin(idx)], axis=1).astype(np.float32)


def test_a_planted_chain_does_not_collapse_into_one_cluster(write_jsonl):
    """Each link is near its neighbours (true Jaccard >= 0.7) while the ends share nearly nothing: union-find would
    make one group of 9 with every row a `dup_of:0`; centre clusters keep every member within reach of its kept row."""
    texts = chain_texts(8)
    rows = rows_of(write_jsonl, [{"instruction": t, "output": "ok"} for t in texts])
    hashes, offsets = shingle_sets(texts, 3)
    sims = true_jaccard(hashes, offsets, np.array([[i, i + 1] for i in range(8)] + [[0, 8], [0, 2]]))
    assert (sims[:8] >= 0.7).all() and sims[8] < 0.1 and sims[9] < 0.7  # the plant: a chain, ends far apart
    r = one(rows, "near_duplicate", scope="prompt", threshold=0.7)
    groups_ok(r)
    assert r.summary["groups"] >= 3 and r.summary["components_split"] == 1
    kept = np.flatnonzero(r.keep)
    for i in np.flatnonzero(r.is_issue):  # every flagged row is within the threshold of its own kept row
        centre = kept[r.group_id[kept] == r.group_id[i]][0]
        assert true_jaccard(hashes, offsets, np.array([[centre, i]]))[0] >= 0.7
    assert flagged(rows, r) == {1: "dup_of:0", 3: "dup_of:2", 5: "dup_of:4", 7: "dup_of:6"}


def test_semantic_duplicate_chain_of_vectors_is_cut(write_jsonl):
    """The same with embeddings: unit vectors on an arc, 0.96 apart per step, the ends at cosine < 0.9."""
    rows = rows_of(write_jsonl, [{"instruction": f"text {i}", "output": "ok"} for i in range(7)])
    r = one(rows, "semantic_duplicate", ctx=CheckContext(rows, None, {"embedder": ArcEmbedder(0.96)}), scope="prompt")
    groups_ok(r)
    assert flagged(rows, r) == {1: "dup_of:0", 3: "dup_of:2", 5: "dup_of:4"}
    assert r.summary["min_similarity_to_kept"] == pytest.approx(0.96, abs=1e-3)


def test_identical_rows_still_group_transitively(write_jsonl):
    """Identity is transitive: a row and its exact copies form one group even when only a chain of pairs was
    found (each copy paired with the next), so dense clusters of copies are never split by the no-chain rule."""
    rows = rows_of(write_jsonl, [{"instruction": BASE, "output": str(i)} for i in range(5)])
    pairs = np.array([[0, 1], [1, 2], [2, 3], [3, 4]])
    centre, to_centre = centre_clusters(5, pairs, np.ones(4), np.arange(5))
    assert centre.tolist() == [0, 0, 0, 0, 0] and to_centre.tolist() == [1.0] * 5
    # a near (not identical) chain through the same links is cut
    centre, _ = centre_clusters(5, pairs, np.full(4, 0.9), np.arange(5))
    assert centre.tolist() == [0, 0, 2, 2, 4]
    assert len(rows) == 5


# --- semantic_duplicate ------------------------------------------------------------------------------------------

def test_semantic_duplicate_reason_and_groups(write_jsonl):
    rows = rows_of(write_jsonl, [{"instruction": BASE, "output": "a"}, {"instruction": FAR, "output": "b"},
                                 {"instruction": NEAR, "output": "c"}, {"instruction": "", "output": ""},
                                 {"instruction": "", "output": ""}])
    r = one(rows, "semantic_duplicate", ctx=hashing_ctx(rows), scope="prompt", threshold=0.8)
    assert flagged(rows, r) == {2: "dup_of:0"}  # the two empty prompts are not duplicates
    assert 0.8 <= r.score[2] < 1.0
    assert r.summary["pairs"][0]["a"] == 0 and r.summary["pairs"][0]["b"] == 2
    groups_ok(r)
    assert one(rows, "semantic_duplicate", ctx=hashing_ctx(rows), scope="prompt", threshold=0.999).rows_flagged == 0


def test_semantic_duplicate_needs_embeddings(write_jsonl, tmp_path):
    rows = rows_of(write_jsonl, [{"instruction": BASE, "output": "a"}, {"instruction": NEAR, "output": "b"}])
    with pytest.raises(ValueError, match="needs embeddings: run `sift analyze PATH --embed`"):
        one(rows, "semantic_duplicate")
    with pytest.raises(ValueError, match="scope"):
        SemanticDuplicate.Params(scope="record")
    assert "embeddings" in SemanticDuplicate.missing_inputs(tmp_path / "ws", rows)
    embed_rows(tmp_path / "ws0", rows, HashingEmbedder(name="all-MiniLM-L6-v2"), scope="both")
    assert SemanticDuplicate.missing_inputs(tmp_path / "ws0", rows) is None
    assert NearDuplicate.missing_inputs(None, rows) is None
    # embeddings already in the workspace are read (no embedder needed), under the `model` parameter's name
    ws = tmp_path / "ws"
    embed_rows(ws, rows, HashingEmbedder(name="hash-model"), scope="prompt")
    r = run_checks(rows, ["semantic_duplicate"], ws_dir=ws,
                   params={"semantic_duplicate": {"scope": "prompt", "model": "hash-model", "threshold": 0.8}})
    assert flagged(rows, r["semantic_duplicate"]) == {1: "dup_of:0"}
    assert r["semantic_duplicate"].summary["model"] == "hash-model"


def test_semantic_duplicate_sample_hashing(sample):
    """HashingEmbedder (bag of words + character trigrams), scope both, 0.95: the 22 planted duplicates, plus one
    pair the bag-of-words stand-in cannot tell apart: rows 490 and 645 share a templated compound-interest answer
    table ("Assuming a steady N% annual return, compounded monthly: | Year | Contributed | ...") with other
    numbers (cosine 0.953). The real model's test below does not flag it."""
    r = one(sample, "semantic_duplicate", ctx=hashing_ctx(sample))
    assert flagged(sample, r) == {**{row: f"dup_of:{of}" for row, of in PLANTED.items()}, 645: "dup_of:490"}
    groups_ok(r)


# Found by MiniLM at 0.95 beyond the planted ones (measured): the sample generator's templated items re-instantiated
# with other numbers or a reworded instruction, e.g. 876 ("painter ... 12 hours ... 24 hours") vs 868 ("... 4 hours
# ... 6 hours"), 945 vs 720 (fence cost of a 20x10 vs an 18x11 garden), 431 vs 92 (the same "rewrite this support
# reply" task, reworded). Semantically these are near-copies of one example, which is what the check is for; their
# cosines are 0.950-0.982, so the exact set at the boundary can move with the CPU's float rounding.
REAL_MODEL_EXTRAS = {381, 431, 698, 722, 724, 760, 876, 945, 982}


@pytest.mark.slow
def test_semantic_duplicate_sample_real_model(sample, real_embedder, tmp_path):
    ctx = CheckContext(sample, tmp_path, {"embedder": real_embedder})
    r = run_checks(sample, ["semantic_duplicate"], ws_dir=tmp_path, ctx=ctx)["semantic_duplicate"]
    got = flagged(sample, r)
    for row, of in PLANTED.items():
        assert got.get(row) == f"dup_of:{of}"
        assert r.score[sample.index[sample["row_id"] == row][0]] > 0.99
    extras = set(got) - set(PLANTED)
    assert extras <= REAL_MODEL_EXTRAS and len(extras) >= 7
    assert 645 not in got  # the hashing stand-in's false pair (templated answer table) is not a duplicate here
    groups_ok(r)
