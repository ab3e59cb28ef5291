"""`contamination`: dataset rows that contain text of a benchmark / eval set (issue 4, "Contamination").

How it works:

1. **Benchmark items.** Each `--benchmark FILE` (any format `analysis.io.load` reads: a file, folder or glob) is
   loaded and cut into *segments*, each remembering its benchmark file and benchmark `row_id`. Which text: for
   `table` files (no known schema, e.g. MT-Bench `question.jsonl` with `turns`, TruthfulQA's CSV) every string
   column and every string of a list-of-strings column is one segment; otherwise the same scope as the dataset
   side: `prompt` the user turns (a benchmark's *questions*), `response` the assistant turns, `both` every turn,
   `record` the table rule on the source record. Segments with fewer than `min_words` words ("writing",
   "Adversarial", "Nothing happens") are ignored: they would match ordinary text.
2. **Normalisation.** Unicode NFKC, casefold, punctuation stripped (text is split into `\\w+` runs, so "16-3-4",
   "Janet’s" and "$2" become words), whitespace collapsed. Both sides are normalised the same way.
3. **Index.** Every segment's word `ngram`-grams are hashed (a seeded random 64-bit value per distinct benchmark
   word, combined polynomially, all in numpy) into a sorted table n-gram hash -> segment ids. A segment shorter than
   `ngram` words (but at least `min_words`) gets one gram of all its words, so a short question matches only when
   it appears in a row as a whole, contiguous, normalised.
4. **Scan.** The dataset rows' n-grams (and, for the short-segment lengths present, their k-grams) are looked up in
   the table. A row's overlap with a segment = the share of the segment's distinct grams found in the row; the row
   is flagged when its best overlap >= `min_overlap`, reason `benchmark_overlap:<benchmark file name>`, score =
   that best overlap. The row's `evidence` is the overlapping span as written in the row (the longest run of row
   words covered by grams shared with that benchmark item, cut from the NFKC text), so the Findings page can mark it.
5. **Paraphrase match (optional).** With `paraphrase` > 0, rows the n-grams did not flag are compared by embedding:
   the row's scope embedding (from the workspace, else computed and stored there) against every benchmark segment's
   embedding (computed with the packaged MiniLM, cached under `<ws>/benchmarks/`), exact inner-product search; a row
   whose best cosine >= `paraphrase` is flagged `benchmark_paraphrase:<benchmark file name>`, score = that cosine.
   A reworded benchmark question shares few 8-grams but keeps its meaning. The summary's `evidence` (up to
   `EVIDENCE_ROWS` rows, highest score first) names, per row, the method, benchmark file, benchmark row id, the
   benchmark item's text, the normalised span and the overlap.

Cache key: the result's parameters include `benchmark_sha256` (path -> SHA-256 of the file, or of its files' digests
for a folder/glob), computed when the parameters are read (`params_dict`), i.e. before `run_checks` looks up the
cache. A benchmark file edited in place therefore gets a new key and is re-scanned, never served a stale result.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.exact_duplicate import SCOPES, scope_texts
from analysis.io import load, resolve_paths
from analysis.space.embedders import DEFAULT_MODEL, load_embedder
from analysis.space.embedders import SCOPES as EMBED_SCOPES
from analysis.util.files import atomic_path, file_sha256

NEEDS = "needs --benchmark FILE (a benchmark/eval set to compare against)"
EVIDENCE_ROWS = 2000  # rows with evidence (benchmark file, row id, text) in the summary
_WORD = re.compile(r"\w+")
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier of the polynomial n-gram hash


def words(text: str) -> list[str]:
    """NFKC, casefold, punctuation stripped, whitespace collapsed -> the list of words."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def file_digest(path: str) -> str:
    """SHA-256 of a benchmark file; for a folder or glob, of the sorted (name, digest) list of its files."""
    files = resolve_paths(path)
    if len(files) == 1 and Path(path).expanduser().is_file():
        return file_sha256(files[0])
    joined = "\n".join(f"{f}\t{file_sha256(f)}" for f in files)
    return hashlib.sha256(joined.encode()).hexdigest()



def benchmark_segments(rows: pd.DataFrame, scope: str) -> list[tuple[int, str]]:
    """(benchmark row_id, text) for every segment of a loaded benchmark (module docstring, step 1)."""
    out: list[tuple[int, str]] = []
    for rid, kind, msgs, source in zip(rows["row_id"].tolist(), rows["kind"].astype(str).tolist(),
                                       rows["messages"].tolist(), rows["source"].tolist(), strict=True):
        if kind == "table" or scope == "record":
            try:
                record = json.loads(source) if isinstance(source, str) else {}
            except ValueError:
                record = {}
            values = record.values() if isinstance(record, dict) else []
            for v in values:
                if isinstance(v, str):
                    out.append((int(rid), v))
                elif isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                    out.extend((int(rid), x) for x in v)
            continue
        turns = [t for t in (msgs if msgs is not None else []) if t.get("content")]
        roles = {"prompt": ("user",), "response": ("assistant",)}.get(scope)
        chosen = [t for t in turns if roles is None or t.get("role") in roles] or turns
        out.extend((int(rid), str(t["content"])) for t in chosen)
    return out


def _gram_hashes(ids: np.ndarray, text_of: np.ndarray, word_hash: np.ndarray, k: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every k-gram start position of a concatenated token array, and whether each is valid (inside one
    text, no unknown word). Unknown words have id -1."""
    n_pos = len(ids) - k + 1
    if n_pos <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=bool)
    wh = word_hash[np.where(ids >= 0, ids, 0)]
    h = np.zeros(n_pos, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _MULT + wh[j:j + n_pos]
    unknown = np.concatenate([[0], np.cumsum(ids < 0)])
    valid = (text_of[:n_pos] == text_of[k - 1:]) & (unknown[k:] - unknown[:n_pos] == 0)
    return h, valid


class _Tokens:
    """Texts as one concatenated array of word ids (vocabulary shared with the benchmark index)."""

    def __init__(self, texts: list[list[str]], vocab: dict[str, int], grow: bool) -> None:
        ids: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for i, ws in enumerate(texts):
            lengths[i] = len(ws)
            for w in ws:
                v = vocab.get(w)
                if v is None:
                    if grow:
                        v = vocab[w] = len(vocab)
                    else:
                        v = -1
                ids.append(v)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.lengths = lengths
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        self.text_of = np.repeat(np.arange(len(texts)), lengths)


@register
class Contamination(Check):
    """Benchmark contamination: rows whose text contains an item of a benchmark or eval set given with
    `--benchmark FILE` (repeatable; any loadable format, e.g. GSM8K `test.jsonl`, MT-Bench `question.jsonl`,
    TruthfulQA's CSV). Training on the test questions inflates the benchmark score the finetuned model is later
    judged by (it measures memorisation, not skill), so leaked rows should be dropped before training. Text is
    normalised (NFKC, casefold, punctuation stripped, whitespace collapsed) and compared as word `ngram`-grams: a
    row is flagged `benchmark_overlap:<benchmark file name>` when it contains at least `min_overlap` of a benchmark
    item's distinct n-grams; score = that share; the summary holds per-row evidence (benchmark file, benchmark row
    id, the longest overlapping span, overlap). Defaults: `ngram` 8, not the 13-gram of GPT-3's contamination study
    (Brown et al. 2020) nor a 50-character substring (as in GPT-4's report): a GSM8K question is ~45 words and many
    benchmark questions are 10-20, so 13-grams would let a lightly edited short question through while 8 words in
    order are still rare outside a copy; items shorter than `ngram` words (but at least `min_words`, default 4)
    must appear whole. `min_overlap` 0.5 (half of the item's n-grams). Scope `prompt`: benchmark questions leak
    through prompts (the benchmark side uses its user turns, or every string column of a schema-less table); the
    parameters carry each benchmark file's SHA-256 so an edited benchmark is never served a cached result.
    Train/eval leakage between two splits of your own data is the same question: pass the eval split as the
    benchmark (`sift analyze train.jsonl --checks contamination --benchmark eval.jsonl`; GSM8K train vs test: 2 of
    7,473 flagged, both templated near-copies of test row 602). `paraphrase` (off by default: it needs the
    embedding model) adds an embedding match for reworded items, reason
    `benchmark_paraphrase:<file>`; 0.88 is the suggested value, measured on GSM8K with the packaged MiniLM
    (bench/bench_paraphrase.py): 11 hand-reworded test questions have cosine 0.84-0.97 to their originals (10 of
    11 >= 0.88, median 0.93; they share almost no 8-gram with them), while the nearest test question of 3,000 train
    questions (same style, different problems) has median cosine 0.66, 99.9th percentile 0.87 and never reaches 0.88.
    """

    name = "contamination"
    description = "Rows that contain a benchmark/eval item (word n-gram overlap with --benchmark files)."

    bounds = {"scope": Bound(choices=SCOPES), "ngram": Bound(1, 64), "min_overlap": Bound(0, 1),
              "min_words": Bound(1, 10_000), "paraphrase": Bound(0, 1)}

    @dataclass(frozen=True)
    class Params:
        benchmarks: tuple[str, ...] = ()  # benchmark files, folders or globs (--benchmark FILE, repeatable)
        scope: str = "prompt"  # prompt | response | both | record: benchmark questions leak through prompts
        ngram: int = 8  # words per gram; items shorter than this (>= min_words) must appear whole
        min_overlap: float = 0.5  # share of a benchmark item's distinct n-grams found in the row
        min_words: int = 4  # benchmark segments with fewer words are ignored (labels, one-word answers)
        paraphrase: float = 0.0  # cosine for an embedding paraphrase match (0 = off; e.g. 0.9 turns it on)
        model: str = DEFAULT_MODEL  # whose embeddings the paraphrase match uses (the packaged MiniLM)

        def __post_init__(self) -> None:
            raw = self.benchmarks
            object.__setattr__(self, "benchmarks", (raw,) if isinstance(raw, str) else tuple(str(b) for b in raw))
            if self.scope not in SCOPES:
                raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")
            if self.ngram < 1 or self.min_words < 1:
                raise ValueError("ngram and min_words must be >= 1")
            if not 0 < self.min_overlap <= 1:
                raise ValueError("min_overlap must be in (0, 1]")
            if not 0 <= self.paraphrase <= 1:
                raise ValueError("paraphrase must be a cosine in [0, 1] (0 = off)")
            if self.paraphrase > 0 and self.scope not in EMBED_SCOPES:
                raise ValueError(f"the paraphrase match embeds scope {', '.join(EMBED_SCOPES)}, not {self.scope!r}")

    @classmethod
    def missing_inputs(cls, ws_dir: Path | None, rows: pd.DataFrame) -> str | None:
        del ws_dir, rows
        return NEEDS  # the benchmark files are a parameter; without them there is nothing to compare against

    def params_dict(self) -> dict[str, Any]:
        """The parameters plus `benchmark_sha256` (path -> content digest), so the cache key follows the files."""
        if not hasattr(self, "_digests"):
            digests = {}
            for b in self.params.benchmarks:
                try:
                    digests[b] = file_digest(b)
                except OSError as exc:
                    raise ValueError(f"benchmark {b}: {exc.strerror or exc}") from exc
            self._digests = digests
        return {**asdict(self.params), "benchmark_sha256": dict(self._digests)}

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        if not p.benchmarks:
            raise ValueError(NEEDS)
        n = len(ctx)
        digests = self.params_dict()["benchmark_sha256"]
        # 1. benchmark segments
        seg_bench, seg_row, seg_words, seg_text = [], [], [], []
        bench_info = []
        for bi, path in enumerate(p.benchmarks):
            brows = load(path).rows
            segs = benchmark_segments(brows, p.scope)
            kept = 0
            for rid, text in segs:
                ws = words(text)
                if len(ws) >= p.min_words:
                    seg_bench.append(bi)
                    seg_row.append(rid)
                    seg_words.append(ws)
                    seg_text.append(text)
                    kept += 1
            bench_info.append({"path": path, "name": Path(path).name, "sha256": digests[path],
                               "rows": len(brows), "segments": kept, "rows_flagged": 0})
        seg_bench_a = np.asarray(seg_bench, dtype=np.int64)
        seg_row_a = np.asarray(seg_row, dtype=np.int64)
        vocab: dict[str, int] = {}
        bt = _Tokens(seg_words, vocab, grow=True)
        word_hash = np.random.default_rng(20240601).integers(0, 2**63, size=max(len(vocab), 1), dtype=np.uint64)
        word_hash = word_hash * np.uint64(2) + np.uint64(1)
        seg_k = np.minimum(bt.lengths, p.ngram)  # gram length per segment
        # 2. dataset rows
        row_words = [words(t) for t in ctx.track(scope_texts(ctx, p.scope))]
        rt = _Tokens(row_words, vocab, grow=False)
        best = np.zeros(n)
        best_seg = np.full(n, -1, dtype=np.int64)
        seg_grams: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # k -> (sorted unique (hash), their segs) pairs
        for k in np.unique(seg_k).tolist():
            bh, bvalid = _gram_hashes(bt.ids, bt.text_of, word_hash, k)
            bseg = bt.text_of[:len(bh)]
            sel = bvalid & (seg_k[bseg] == k)
            pairs = np.unique(np.stack([bh[sel].view(np.int64), bseg[sel]], axis=1), axis=0)  # distinct per seg
            seg_grams[k] = (pairs[:, 0], pairs[:, 1])
            rh, rvalid = _gram_hashes(rt.ids, rt.text_of, word_hash, k)
            rrow = rt.text_of[:len(rh)]
            rh_i = rh.view(np.int64)
            hit = rvalid & np.isin(rh_i, pairs[:, 0])
            if not hit.any():
                continue
            rpairs = np.unique(np.stack([rrow[hit], rh_i[hit]], axis=1), axis=0)  # distinct (row, gram)
            lo = np.searchsorted(pairs[:, 0], rpairs[:, 1], side="left")
            hi = np.searchsorted(pairs[:, 0], rpairs[:, 1], side="right")
            cnt = hi - lo
            rows_x = np.repeat(rpairs[:, 0], cnt)
            idx = np.repeat(lo - np.cumsum(np.concatenate([[0], cnt[:-1]])), cnt) + np.arange(cnt.sum())
            segs_x = pairs[idx, 1]
            keys, matched = np.unique(rows_x * len(seg_k) + segs_x, return_counts=True)
            r_of, s_of = keys // len(seg_k), keys % len(seg_k)
            totals = np.bincount(pairs[:, 1], minlength=len(seg_k))
            share = matched / totals[s_of]
            order = np.lexsort((s_of, -share, r_of))  # per row: best share, then the earliest segment
            first = np.ones(len(order), dtype=bool)
            first[1:] = r_of[order][1:] != r_of[order][:-1]
            top = order[first]
            better = share[top] > best[r_of[top]]
            best[r_of[top][better]] = share[top][better]
            best_seg[r_of[top][better]] = s_of[top][better]
        # 3. flags, reasons, evidence
        issue = best >= p.min_overlap - 1e-12
        reason = np.full(n, "", dtype=object)
        method = np.full(n, "", dtype=object)
        for i in np.flatnonzero(issue).tolist():
            bi = int(seg_bench_a[best_seg[i]])
            reason[i] = f"benchmark_overlap:{bench_info[bi]['name']}"
            method[i] = "ngram"
            bench_info[bi]["rows_flagged"] += 1
        score = best.copy()
        if p.paraphrase > 0:  # rows the n-grams missed whose embedding is within `paraphrase` of a benchmark item
            cos, nearest = self._paraphrase_match(ctx, seg_text, digests)
            para = ~issue & (cos >= p.paraphrase - 1e-6)
            for i in np.flatnonzero(para).tolist():
                bi = int(seg_bench_a[nearest[i]])
                reason[i] = f"benchmark_paraphrase:{bench_info[bi]['name']}"
                method[i] = "paraphrase"
                bench_info[bi]["rows_flagged"] += 1
            best_seg = np.where(para, nearest, best_seg)
            score = np.where(para, cos, score)
            issue = issue | para
        texts = scope_texts(ctx, p.scope)
        spans = np.full(n, "", dtype=object)
        row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
        flagged = np.flatnonzero(issue)
        shown = set(flagged[np.argsort(-score[flagged], kind="stable")][:EVIDENCE_ROWS].tolist())
        evidence = []
        for i in flagged.tolist():
            s = int(best_seg[i])
            if method[i] == "ngram":
                k = int(seg_k[s])
                ghash, gseg = seg_grams[k]
                start, end = _longest_span(rt, i, ghash[gseg == s], word_hash, k)
                spans[i] = _verbatim(texts[i], start, end)
                span_words = " ".join(row_words[i][start:end])
            else:
                spans[i] = span_words = ""  # a paraphrase has no verbatim span: the evidence is the item itself
            if i in shown:
                bi = int(seg_bench_a[s])
                evidence.append({"row_id": int(row_ids[i]), "method": method[i], "benchmark": bench_info[bi]["name"],
                                 "benchmark_path": bench_info[bi]["path"], "benchmark_row_id": int(seg_row_a[s]),
                                 "benchmark_text": seg_text[s][:1000], "span": span_words,
                                 "overlap": round(float(best[i]), 4), "score": round(float(score[i]), 4)})
        evidence.sort(key=lambda e: -e["score"])
        summary = {"scope": p.scope, "ngram": p.ngram, "min_overlap": p.min_overlap, "paraphrase": p.paraphrase,
                   "benchmarks": bench_info, "segments": int(len(seg_k)), "evidence": evidence}
        return self.result(ctx, score=score, is_issue=issue, reason=reason, summary=summary, evidence=spans)

    def _paraphrase_match(self, ctx: CheckContext, seg_text: list[str], digests: dict[str, str]
                          ) -> tuple[np.ndarray, np.ndarray]:
        """Each row's best cosine to any benchmark segment, and which segment (exact inner-product search)."""
        import faiss

        from analysis.checks.semantic_duplicate import scope_vectors

        p = self.params
        if "embedder" not in ctx.extras:
            try:
                ctx.extras["embedder"] = load_embedder() if p.model == DEFAULT_MODEL else None
            except (ImportError, ValueError) as exc:
                raise ValueError(f"contamination paraphrase match needs the embedding model: {exc}") from exc
            if ctx.extras["embedder"] is None:
                raise ValueError(f"contamination paraphrase match: embeddings of model {p.model} are not in the "
                                 "workspace; run `sift analyze PATH --embed --model PATH` first")
        vectors, model = scope_vectors(ctx, p.model, p.scope, check="contamination paraphrase")
        seg_vecs = self._segment_vectors(ctx, seg_text, digests, model)
        if not len(seg_vecs) or not len(vectors):
            return np.zeros(len(ctx)), np.full(len(ctx), -1, dtype=np.int64)
        index = faiss.IndexFlatIP(seg_vecs.shape[1])
        index.add(np.ascontiguousarray(seg_vecs, dtype=np.float32))
        cos, nearest = index.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
        return cos[:, 0].astype(np.float64), nearest[:, 0].astype(np.int64)

    def _segment_vectors(self, ctx: CheckContext, seg_text: list[str], digests: dict[str, str], model: str
                         ) -> np.ndarray:
        """Benchmark segment embeddings, cached in the workspace by benchmark digests, selection and model."""
        p = self.params
        key = hashlib.sha256(json.dumps([sorted(digests.items()), p.scope, p.min_words, model]).encode()).hexdigest()
        path = Path(ctx.ws_dir) / "benchmarks" / f"{key[:24]}.npy" if ctx.ws_dir is not None else None
        if path is not None and path.exists():
            cached = np.load(path)
            if len(cached) == len(seg_text):
                return cached
        vecs = np.asarray(ctx.extras["embedder"](seg_text), dtype=np.float32) if seg_text else np.zeros((0, 1))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                np.save(fh, vecs)
        return vecs


def _verbatim(text: str, start: int, end: int) -> str:
    """Row text from word `start` to word `end` as written: the words were cut from NFKC text, so characters NFKC
    expands ("¾" -> "3⁄4") are mapped back to the original character they came from."""
    if unicodedata.is_normalized("NFKC", text):
        norm, owner = text, None
    else:
        parts = [unicodedata.normalize("NFKC", ch) for ch in text]
        norm = "".join(parts)
        owner = np.repeat(np.arange(len(text)), [len(p) for p in parts])
    spans = [m.span() for m in _WORD.finditer(norm)]
    if end <= start or end > len(spans):
        return ""
    a, b = spans[start][0], spans[end - 1][1]
    if owner is not None:
        a, b = int(owner[a]), int(owner[b - 1]) + 1
    return text[a:b][:1000]


def _longest_span(rt: _Tokens, i: int, seg_hashes: np.ndarray, word_hash: np.ndarray, k: int) -> tuple[int, int]:
    """The longest run of row i's words covered by grams it shares with one benchmark segment: (start, end)."""
    a, b = int(rt.offsets[i]), int(rt.offsets[i + 1])
    ids = rt.ids[a:b]
    h, valid = _gram_hashes(ids, np.zeros(len(ids), dtype=np.int64), word_hash, k)
    starts = np.flatnonzero(valid & np.isin(h.view(np.int64), seg_hashes))
    covered = np.zeros(len(ids) + 1, dtype=np.int64)
    np.add.at(covered, starts, 1)
    np.add.at(covered, starts + k, -1)
    mask = np.cumsum(covered)[:len(ids)] > 0
    best, cur_start, out = 0, 0, (0, 0)
    for j, m in enumerate(mask.tolist() + [False]):
        if m and (j == 0 or not mask[j - 1]):
            cur_start = j
        if not m and j > 0 and mask[j - 1] and j - cur_start > best:
            best, out = j - cur_start, (cur_start, j)
    return out
