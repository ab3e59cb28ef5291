"""`near_duplicate`: MinHash + LSH on word n-gram shingles, verified with true Jaccard (issue 4).

The MinHash is our own batch-vectorised numpy implementation (bench/bench_dedup.py compares it with datasketch's
`MinHashLSH` on the same labelled set):

1. **Shingles.** The scope text is normalised like `exact_duplicate` (NFKC, whitespace, casefold), split into words
   (`\\w+` runs, so punctuation does not split or join shingles) and cut into overlapping word `ngram`-grams. A text
   with fewer than `ngram` words (but at least one) gets a single shingle of all its words, so short prompts such as
   "Say hi" still compare (they can only match a text with exactly the same words). Empty texts have no shingles and
   are never duplicates. No Python object is made per word: the UTF-8 bytes are cut into runs of word bytes with a
   byte table, Arrow dictionary-encodes the runs, and only each distinct run goes through Python's NFKC, casefold
   and `\\w+` (`shingle_sets` says why this gives exactly the words of the whole-text pipeline). Each distinct word
   is hashed once (blake2b, 64 bit); a shingle's 64-bit hash mixes its words' hashes (splitmix64 finaliser), all in
   numpy over every shingle of the dataset at once. A row's shingle *set* (duplicates within a row removed) is what
   Jaccard and MinHash see.
2. **MinHash.** `num_perm` hash functions h_i(x) = (a_i * x + b_i) mod 2^64, keeping the top 32 bits
   (Dietzfelbinger's multiply-shift family: universal, and the modulus is the machine word, so no slow 64-bit
   `%`), applied as one (shingles x num_perm) product per batch of rows and min-reduced per row with
   `np.minimum.reduceat`. Seeded (seed 1), so results are reproducible.
3. **LSH.** The signature is cut into `bands` bands of `rows` values; rows whose band values agree in any band are
   candidate pairs. `bands`/`rows` come from datasketch's optimal-parameter rule: the (b, r) with b*r <= num_perm
   minimising the (equally weighted) false-positive area int_0^t 1-(1-s^r)^b ds plus the false-negative area
   int_t^1 (1-s^r)^b ds, for the LSH threshold t = min(threshold, curve_min). Within a bucket each member is paired
   with the next `MAX_BUCKET_PAIRS` members (bucket order = row order): a bucket of thousands of near-identical
   rows would otherwise produce millions of pairs; union-find still joins such a cluster through the chain.
4. **Verification.** Every candidate pair's true Jaccard of the two shingle sets is computed; only pairs with
   Jaccard >= `threshold` join a group (union-find), so an LSH false positive never reaches the user. Rows with
   identical shingles (exact duplicates up to punctuation and case) are collapsed before LSH and join with Jaccard 1.
5. **Groups.** The `keep` rule (as in `exact_duplicate`) picks one member; the others are flagged
   `dup_of:<kept row_id>` with score = their best true Jaccard to any member of the group.

Threshold tuning without re-running: the LSH is tuned for `curve_min` (default 0.5) rather than `threshold`, so the
summary also holds `jaccard_histogram` (verified candidate pairs counted in 0.05 bins from 0.5 to 1.0) and
`removed_by_threshold` (rows a "drop all but kept" would remove at each threshold 0.5, 0.55, ... 1.0, computed by
union-find over the same pairs). Near 0.5 the LSH's recall is about one half (that is its tuning point), so the low
end of both curves is a lower bound; from ~0.6 up it is essentially complete.

Defaults: `ngram` 3 (word trigrams; short enough that a one-word edit touches only three shingles of a sentence),
`num_perm` 128 (Jaccard estimate standard error ~0.04), `threshold` 0.7 (the usual near-dedup cut, e.g. the
BigCode/"Deduplicating Training Data" pipelines use 0.7-0.85 on 5-grams), scope `both`.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analysis.checks.base import Bound, Check, CheckContext, CheckResult, register
from analysis.checks.exact_duplicate import KEEP_RULES, SCOPES, check_scope_keep, keep_rank, scope_texts

_WORD = re.compile(r"\w+")
# UTF-8 bytes that can be part of a word: ASCII [A-Za-z0-9_] (Python's `\w` on ASCII) and every non-ASCII byte
_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[128:] = True
_WORD_BYTE[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", dtype=np.uint8)] = True
_MASK32 = np.uint64(0xFFFFFFFF)
MAX_BUCKET_PAIRS = 64  # each bucket member is paired with at most this many following members
HIST_EDGES = np.round(np.arange(0.5, 1.0001, 0.05), 2)  # 0.5, 0.55, ..., 1.0 (the last bin includes 1.0)
PAIR_SAMPLE = 200
JACCARD_CACHE = 20_000  # rows' shingle sets kept while verifying pairs (~7 KB each): unbounded, 1.7 GB at 1M
_BATCH_CELLS = 1 << 20  # shingles x num_perm per MinHash batch (8 MB of uint64: stays in cache)


# --- shingles and MinHash -------------------------------------------------------------------------------------

def splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def _piece_words(piece: bytes) -> list[str]:
    """The words of one piece exactly as the whole-text pipeline finds them: NFKC, casefold, `\\w+`."""
    if piece.isascii():
        return [piece.decode("ascii").lower()]  # a piece is one run of [A-Za-z0-9_]
    return _WORD.findall(unicodedata.normalize("NFKC", piece.decode("utf-8", "surrogatepass")).casefold())


def window_hash(word_h: np.ndarray, ngram: int, block: int = 1 << 16) -> np.ndarray:
    """Hash of the `ngram` words starting at each position (past the end the words are 0): the same chain as a
    shingle's hash, computed in place over cache-sized blocks."""
    padded = np.concatenate([word_h, np.zeros(ngram, dtype=np.uint64)])
    m = len(word_h)
    out = np.zeros(m, dtype=np.uint64)
    tmp = np.empty(min(block, m), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for lo in range(0, m, block):
            h, t = out[lo:lo + block], tmp[:min(block, m - lo)]
            for j in range(ngram):  # h = splitmix(h * FNV + word), as `splitmix` does it
                h *= np.uint64(0x100000001B3)
                h += padded[lo + j:lo + j + len(h)]
                h += np.uint64(0x9E3779B97F4A7C15)
                np.right_shift(h, np.uint64(30), out=t)
                h ^= t
                h *= np.uint64(0xBF58476D1CE4E5B9)
                np.right_shift(h, np.uint64(27), out=t)
                h ^= t
                h *= np.uint64(0x94D049BB133111EB)
                np.right_shift(h, np.uint64(31), out=t)
                h ^= t
    return out


_EMPTY_H, _EMPTY_OFF = np.zeros(0, dtype=np.uint64), np.zeros(1, dtype=np.int64)
SHINGLE_ROWS = 100_000  # rows shingled at a time: the byte-level temporaries of 1M rows at once peak near 10 GB


def shingle_sets(texts: list[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Every row's shingle hashes: (hashes uint64 grouped by row, offsets int64 [n+1]), computed `SHINGLE_ROWS`
    rows at a time (a row's shingles depend on that row alone, so the result is the same; only the peak memory of
    the temporaries is bounded)."""
    if len(texts) <= SHINGLE_ROWS:
        return _shingle_sets(texts, ngram)
    parts = [_shingle_sets(texts[i:i + SHINGLE_ROWS], ngram) for i in range(0, len(texts), SHINGLE_ROWS)]
    hashes = np.empty(sum(len(h) for h, _ in parts), dtype=np.uint64)  # (pages are touched as parts are freed)
    offsets, base = [np.zeros(1, dtype=np.int64)], 0
    for k, (h, off) in enumerate(parts):
        hashes[base:base + len(h)] = h
        offsets.append(off[1:] + base)
        base += len(h)
        parts[k] = (_EMPTY_H, _EMPTY_OFF)  # np.concatenate would hold every part and the whole at once: 2x the peak
    return hashes, np.concatenate(offsets).astype(np.int64)


def word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every row's words as 64-bit hashes: (word hashes uint64 in row order, words per row int64), `SHINGLE_ROWS`
    rows at a time. The words are those of `\\w+` over the NFKC-normalised, casefolded text (see `_word_hashes`);
    repeated_passage reuses them, so both checks tokenise alike without a Python object per word."""
    if len(texts) <= SHINGLE_ROWS:
        return _word_hashes(texts)
    parts = [_word_hashes(texts[i:i + SHINGLE_ROWS]) for i in range(0, len(texts), SHINGLE_ROWS)]
    return np.concatenate([h for h, _ in parts]), np.concatenate([c for _, c in parts])


def _word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`word_hashes` for one slice of rows.

    Words are those of `\\w+` over the NFKC-normalised, casefolded text, found without a Python object per word:
    the texts' UTF-8 bytes (joined by NUL) are cut with a byte table into *pieces*, maximal runs of ASCII word
    characters and non-ASCII bytes; pieces never hold an ASCII separator, and NFKC, casefold and `\\w` act within a
    piece as they do within the whole text (casefold is per character; NFKC could only join across an ASCII
    separator by composing `=`, `<` or `>` with U+0338, which gives a non-word symbol either way). The pieces are
    dictionary-encoded by Arrow; only each *distinct* piece goes through Python (NFKC, casefold, `\\w+`: an ASCII
    piece is one lowercased word, a non-ASCII one may give none or several, e.g. "don\u2019t" -> don, t).
    """
    n = len(texts)
    enc = [t.encode("utf-8", "surrogatepass") for t in texts]  # (lone surrogates are never word characters)
    data = np.frombuffer(b"\x00".join(enc), dtype=np.uint8)
    row_start = np.zeros(n + 1, dtype=np.int64)  # byte position of each row (and one past the end)
    if n:
        np.cumsum(np.fromiter(map(len, enc), dtype=np.int64, count=n) + 1, out=row_start[1:])
    # pieces: [starts, ends) of the runs of word bytes; the NUL between rows ends every run at a row boundary
    is_word = np.zeros(len(data) + 2, dtype=bool)
    is_word[1:-1] = _WORD_BYTE[data]
    edges = np.flatnonzero(is_word[1:] != is_word[:-1])
    starts, ends = edges[0::2], edges[1::2]
    piece_off = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(ends - starts, out=piece_off[1:])
    pieces = pa.Array.from_buffers(pa.large_binary(), len(starts),
                                   [None, pa.py_buffer(piece_off), pa.py_buffer(data[is_word[1:-1]])])
    encoded = pc.dictionary_encode(pieces)
    idx = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # each distinct piece's words -> word ids -> one blake2b hash per distinct word
    vocab: dict[str, int] = {}
    piece_words = [[vocab.setdefault(w, len(vocab)) for w in _piece_words(p)]
                   for p in encoded.dictionary.to_pylist()]
    vocab_h = np.fromiter((_word_hash(w) for w in vocab), dtype=np.uint64, count=len(vocab))
    n_words = np.fromiter(map(len, piece_words), dtype=np.int64, count=len(piece_words))
    word_off = np.zeros(len(piece_words) + 1, dtype=np.int64)
    np.cumsum(n_words, out=word_off[1:])
    flat_h = vocab_h[np.fromiter((w for ws in piece_words for w in ws), dtype=np.int64, count=int(word_off[-1]))]
    per_piece = n_words[idx]
    cum = np.zeros(len(idx) + 1, dtype=np.int64)  # words before each piece
    np.cumsum(per_piece, out=cum[1:])
    if (per_piece == 1).all():
        word_h = flat_h[word_off[idx]]
    else:  # word k of the text is word (k - cum[piece]) of its piece
        word_h = flat_h[np.repeat(word_off[idx] - cum[:-1], per_piece) + np.arange(cum[-1])]
    first_word = cum[np.searchsorted(starts, row_start)]  # each row's first word (and the total at the end)
    return word_h, np.diff(first_word)


def _shingle_sets(texts: list[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """`shingle_sets` for one slice of rows.

    A shingle repeated inside a row stays repeated here: MinHash (a min) and true Jaccard (on Python sets) do not
    see repeats, and removing them would cost a hash table over every shingle (~1 s per 10M shingles).
    """
    n = len(texts)
    word_h, counts = _word_hashes(texts)
    first_word = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=first_word[1:])
    # shingles: full rows take every window of `ngram` words that ends inside the row; a row with fewer words (but
    # one or more) gets one shingle of all its words
    n_sh = np.where(counts >= ngram, counts - ngram + 1, np.minimum(counts, 1))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(n_sh, out=offsets[1:])
    local = np.arange(len(word_h)) - np.repeat(first_word[:-1], counts)  # word position within its row
    sh_start = np.flatnonzero(local < np.repeat(n_sh, counts))
    h = window_hash(word_h, ngram)[sh_start]
    short = np.flatnonzero((counts > 0) & (counts < ngram))
    if len(short):  # hash only the words that are there
        hs = np.zeros(len(short), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(ngram - 1):
                use = counts[short] > j
                hs[use] = splitmix(hs[use] * np.uint64(0x100000001B3) + word_h[first_word[short[use]] + j])
        h[offsets[short]] = hs
    return h, offsets


def _perm_params(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd multipliers
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def minhash_signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int) -> np.ndarray:
    """(n, num_perm) uint32 MinHash signatures; rows without shingles get all 0xFFFFFFFF.

    Batches of whole rows (up to `_BATCH_CELLS` shingle x permutation cells, a buffer that stays in cache) are hashed
    into one reused (num_perm, shingles) uint64 buffer with in-place ufuncs, then min-reduced per row along the
    contiguous axis: ~5x faster than the (shingles, num_perm) layout with temporaries, and the 8 MB buffer ~2x faster
    than a 64 MB one.
    """
    n = len(offsets) - 1
    a, b = _perm_params(num_perm)
    a, b = a[:, None], b[:, None]
    sig = np.full((n, num_perm), 0xFFFFFFFF, dtype=np.uint32)
    nonempty = np.flatnonzero(np.diff(offsets) > 0)
    max_sh = max(_BATCH_CELLS // num_perm, 1)
    ends = offsets[nonempty + 1]
    buf = np.empty((num_perm, max_sh), dtype=np.uint64)
    lo = 0
    shift = np.uint64(32)
    while lo < len(nonempty):
        s0 = offsets[nonempty[lo]]
        hi = max(int(np.searchsorted(ends, s0 + max_sh, side="right")), lo + 1)
        rows = nonempty[lo:hi]
        s1 = offsets[rows[-1] + 1]
        m = int(s1 - s0)
        out = buf[:, :m] if m <= max_sh else np.empty((num_perm, m), dtype=np.uint64)  # one huge row
        with np.errstate(over="ignore"):
            np.multiply(a, hashes[None, s0:s1], out=out)
            out += b
        low = np.minimum.reduceat(out, offsets[rows] - s0, axis=1)
        low >>= shift  # (x >> 32 is monotone, so the min of the top halves is the top half of the min)
        sig[rows] = low.T
        lo = hi
    return sig


@functools.lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
                  ) -> tuple[int, int]:
    """(bands, rows) minimising weighted false-positive + false-negative areas (datasketch's `_optimal_param`)."""
    def area(f: Any, lo: float, hi: float) -> float:
        xs = np.linspace(lo, hi, 201)
        ys = f(xs)
        return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2)

    best, best_err = (1, num_perm), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = area(lambda s, r=rows, b=bands: 1 - (1 - s ** r) ** b, 0.0, threshold)
            fn = area(lambda s, r=rows, b=bands: (1 - s ** r) ** b, threshold, 1.0)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (bands, rows), err
    return best


def lsh_candidates(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Candidate pairs (m, 2) int64, i < j, unique: rows sharing all `rows` values of at least one band."""
    n = len(sig)
    codes: list[np.ndarray] = []
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    for band in range(bands):
        part = sig[:, band * rows:(band + 1) * rows].astype(np.uint64)
        key = np.full(n, np.uint64(band), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for c in range(rows):
                key = splitmix(key * np.uint64(0x100000001B3) + part[:, c])
        order = np.argsort(key, kind="stable")
        skey = key[order]
        for d in range(1, MAX_BUCKET_PAIRS + 1):
            same = np.flatnonzero(skey[d:] == skey[:-d])
            if not len(same):
                break
            i, j = order[same], order[same + d]
            codes.append(np.minimum(i, j) * n + np.maximum(i, j))
    if not codes:
        return np.zeros((0, 2), dtype=np.int64)
    uniq = np.unique(np.concatenate(codes))
    return np.stack([uniq // n, uniq % n], axis=1)


def true_jaccard(hashes: np.ndarray, offsets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Exact Jaccard of the two rows' shingle sets for each pair."""
    out = np.empty(len(pairs), dtype=np.float64)
    cache: dict[int, frozenset[int]] = {}

    def get(i: int) -> frozenset[int]:
        s = cache.get(i)
        if s is None:
            s = cache[i] = frozenset(hashes[offsets[i]:offsets[i + 1]].tolist())
        return s

    for k, (i, j) in enumerate(pairs.tolist()):
        if len(cache) > JACCARD_CACHE:  # pairs come sorted by their first row: recent sets are the ones reused
            cache.clear()
        a, b = get(i), get(j)
        inter = len(a & b)
        out[k] = inter / (len(a) + len(b) - inter) if (a or b) else 0.0
    return out


# --- groups ---------------------------------------------------------------------------------------------------

def union_find(n: int, pairs: np.ndarray) -> np.ndarray:
    """Component root per position (a position with no pair is its own root)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for i, j in pairs.tolist():
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    roots = np.arange(n)
    touched = np.unique(pairs.ravel())
    roots[touched] = [find(i) for i in touched.tolist()]
    return roots


IDENTICAL = 1.0 - 1e-9  # a pair this similar is the same text: identity is transitive, similarity is not


def centre_clusters(n: int, pairs: np.ndarray, sims: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy clusters that cannot chain: (centre position per row or -1, similarity to that centre).

    Union-find over "similar" pairs joins a→b→c→… into one group even when a and the far end share nothing (peers
    report a 859k-row source collapsing to 2 rows that way). Here only identical pairs are joined transitively; then
    rows are visited in `order` (the keep rule's preference) and each unassigned row becomes a centre that claims the
    unassigned rows it is *directly* paired with. Every member is therefore within the threshold of its kept row.
    Pairs missing from `pairs` are never inferred: a row not directly verified against a centre stays its own.
    """
    centre = np.full(n, -1, dtype=np.int64)
    to_centre = np.zeros(n, dtype=np.float64)
    if not len(pairs):
        return centre, to_centre
    same = sims >= IDENTICAL
    ident = union_find(n, pairs[same])  # identical rows: one class, named by its smallest position
    neighbours: dict[int, dict[int, float]] = {}
    for x, y, v in zip(ident[pairs[~same, 0]].tolist(), ident[pairs[~same, 1]].tolist(), sims[~same].tolist(),
                       strict=True):
        if x != y:
            for u, w in ((x, y), (y, x)):
                near = neighbours.setdefault(u, {})
                near[w] = max(near.get(w, 0.0), v)
    members = np.unique(pairs.ravel())
    ordered = members[np.argsort(_positions(order, members), kind="stable")].tolist()
    classes: dict[int, list[int]] = {}
    for m in ordered:
        classes.setdefault(int(ident[m]), []).append(m)
    owner: dict[int, tuple[int, float]] = {}  # class -> (its centre row, similarity to that centre)
    for m in ordered:
        cls = int(ident[m])
        if cls in owner:
            continue
        owner[cls] = (m, 1.0)  # the best-ranked row of an unclaimed class is a centre...
        for other, v in neighbours.get(cls, {}).items():
            owner.setdefault(other, (m, v))  # ...claiming the unclaimed classes paired with it directly
    for cls, (c, v) in owner.items():
        same_class = cls == int(ident[c])
        for m in classes[cls]:
            centre[m] = c
            to_centre[m] = 1.0 if same_class else v
    return centre, to_centre


def _positions(order: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Where each of `members` sits in `order` (a permutation of all positions)."""
    where = np.empty(len(order), dtype=np.int64)
    where[order] = np.arange(len(order))
    return where[members]


def keep_order(ctx: CheckContext, keep_rule: str) -> np.ndarray:
    """All positions, the keep rule's favourite first (ties: the earliest row)."""
    pos = np.arange(len(ctx))
    return np.lexsort((pos, -keep_rank(ctx, pos, keep_rule)))


def build_groups(ctx: CheckContext, pairs: np.ndarray, sims: np.ndarray, keep_rule: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """From accepted pairs (positions) and their similarities: group_id, keep, reason, score per row, and stats.

    Groups are `centre_clusters` (no chains): each flagged row was verified directly against its kept row, and its
    score is that similarity. Groups are numbered by their first member's position. Stats: how many union-find
    components were cut into several groups, and the lowest similarity of a flagged row to its kept row.
    """
    n = len(ctx)
    group_id = np.full(n, -1, dtype=np.int64)
    keep = np.zeros(n, dtype=bool)
    reason = np.full(n, "", dtype=object)
    score = np.zeros(n, dtype=np.float64)
    stats: dict[str, Any] = {"groups": 0, "components_split": 0, "min_similarity_to_kept": None}
    if not len(pairs):
        return group_id, keep, reason, score, stats
    centre, to_centre = centre_clusters(n, pairs, sims, keep_order(ctx, keep_rule))
    in_group = np.flatnonzero(centre >= 0)
    sizes = np.bincount(centre[in_group], minlength=n)
    solo = in_group[sizes[centre[in_group]] == 1]  # a row whose every partner went to another centre
    centre[solo] = -1
    members = np.flatnonzero(centre >= 0)
    if not len(members):
        return group_id, keep, reason, score, stats
    first = np.full(n, n, dtype=np.int64)
    np.minimum.at(first, centre[members], members)
    _, gids = np.unique(first[centre[members]], return_inverse=True)
    group_id[members] = gids
    keep[members] = centre[members] == members
    row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
    dup = members[~keep[members]]
    reason[dup] = [f"dup_of:{r}" for r in row_ids[centre[dup]].tolist()]
    score[dup] = to_centre[dup]
    paired = np.unique(pairs.ravel())
    comps = union_find(n, pairs)[paired]
    label = np.where(group_id[paired] >= 0, group_id[paired], n + paired)  # a paired row left alone: its own label
    combos = np.unique(np.stack([comps, label], axis=1), axis=0)
    _, per_comp = np.unique(combos[:, 0], return_counts=True)
    stats = {"groups": int(gids.max()) + 1, "components_split": int((per_comp > 1).sum()),
             "min_similarity_to_kept": round(float(score[dup].min()), 4) if len(dup) else None}
    return group_id, keep, reason, score, stats


def removed_curve(n: int, pairs: np.ndarray, sims: np.ndarray, thresholds: np.ndarray,
                  order: np.ndarray | None = None) -> dict[str, int]:
    """Rows removable (grouped rows minus one kept per group) if the threshold were each of `thresholds`."""
    order = np.arange(n) if order is None else order
    out: dict[str, int] = {}
    for t in thresholds:
        sel = sims >= t - 1e-12
        centre, _ = centre_clusters(n, pairs[sel], sims[sel], order)
        grouped = centre >= 0
        out[f"{t:.2f}"] = int((grouped & (centre != np.arange(n))).sum())
    return out


@register
class NearDuplicate(Check):
    """Near duplicates: rows whose word n-gram shingle sets have true Jaccard >= `threshold`, found with MinHash +
    LSH and verified exactly (module docstring: shingling, hash family, band choice, threshold curve). Near
    duplicates (the same example with a few words changed, re-templated, re-punctuated) over-weight one example as
    exact duplicates do, and escape a hash-based dedup. Groups cannot chain: rows are visited in the `keep` rule's
    order (first, longest, shortest, highest_score, most_turns; as `exact_duplicate`) and each unclaimed row becomes
    a kept centre that claims the rows paired with it directly (identical rows join transitively), so every flagged
    row is within the threshold of its kept row — a→b→c with a and c unlike never makes c a duplicate of a. Flagged
    rows: `dup_of:<row_id of the kept member>`, score = their true Jaccard to it. `summary["components_split"]`
    counts the chains this cut; `min_similarity_to_kept` is the loosest member.
    """

    name = "near_duplicate"
    description = "Rows whose word-shingle sets overlap (true Jaccard >= threshold, MinHash+LSH); one kept per group."

    bounds = {"scope": Bound(choices=SCOPES), "threshold": Bound(0, 1), "ngram": Bound(1, 64),
              "num_perm": Bound(16, 2048), "curve_min": Bound(0, 1), "keep": Bound(choices=KEEP_RULES)}

    @dataclass(frozen=True)
    class Params:
        scope: str = "both"  # prompt | response | both | record
        threshold: float = 0.7  # true Jaccard of the shingle sets
        ngram: int = 3  # words per shingle; texts shorter than this get one shingle of all their words
        num_perm: int = 128  # MinHash permutations
        curve_min: float = 0.5  # the LSH is tuned for min(threshold, curve_min), so the curve starts there
        keep: str = "first"  # first | longest | shortest | highest_score | most_turns

        def __post_init__(self) -> None:
            check_scope_keep(self.scope, self.keep)
            if not 0 < self.threshold <= 1 or not 0 < self.curve_min <= 1:
                raise ValueError("threshold and curve_min must be in (0, 1]")
            if self.ngram < 1 or self.num_perm < 2:
                raise ValueError("ngram must be >= 1 and num_perm >= 2")

    def run(self, ctx: CheckContext) -> CheckResult:
        p = self.params
        texts = scope_texts(ctx, p.scope)
        return self._run(ctx, lambda lo, hi: _shingle_sets(texts[lo:hi], p.ngram),
                         lambda rows: shingle_sets([texts[i] for i in rows.tolist()], p.ngram))

    def run_from_shingles(self, ctx: CheckContext, hashes: np.ndarray, offsets: np.ndarray) -> CheckResult:
        """The check on shingles computed beforehand (`shingle_sets` of the scope texts with this `ngram`), so
        that a caller who already has them, or a benchmark timing MinHash + LSH + verification without the
        shingling (bench/bench_dedup.py), skips it. Same steps and result as `run` on the texts they came from."""
        n = len(ctx)
        if len(offsets) != n + 1 or (n and int(offsets[-1]) != len(hashes)):
            raise ValueError(f"shingles for {len(offsets) - 1} rows ({len(hashes)} hashes) do not fit {n} rows")

        def part(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            hi = min(hi, n)
            return hashes[offsets[lo]:offsets[hi]], offsets[lo:hi + 1] - offsets[lo]

        def subset(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            counts = offsets[rows + 1] - offsets[rows]
            sub_off = np.zeros(len(rows) + 1, dtype=np.int64)
            np.cumsum(counts, out=sub_off[1:])
            take = np.repeat(offsets[rows] - sub_off[:-1], counts) + np.arange(sub_off[-1])
            return hashes[take], sub_off

        return self._run(ctx, part, subset)

    def _run(self, ctx: CheckContext, rows_shingles: Callable[[int, int], tuple[np.ndarray, np.ndarray]],
             subset: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]) -> CheckResult:
        """`run`'s steps; `rows_shingles(lo, hi)` gives the shingles of rows [lo, hi), `subset(rows)` those of
        the given rows (positions, sorted)."""
        p = self.params
        n = len(ctx)
        # 1. per slice of rows: shingles -> set digest and MinHash signature; the shingles themselves are dropped
        #    (at 1M rows they are ~0.8 GB) and rebuilt in step 3 only for the rows of candidate pairs
        sizes = np.zeros(n, dtype=np.int64)
        set_key = np.zeros(n, dtype=np.uint64)
        sig = np.empty((n, p.num_perm), dtype=np.uint32)
        for lo in range(0, n, SHINGLE_ROWS):
            hashes, offsets = rows_shingles(lo, lo + SHINGLE_ROWS)
            part = np.diff(offsets)
            sizes[lo:lo + len(part)] = part
            # rows with identical shingle multisets collapse onto their first row (Jaccard 1, no LSH needed); equal
            # sets with other repeat counts are not collapsed but have equal signatures, so LSH pairs them anyway
            nonempty = part > 0
            if nonempty.any():
                key = np.zeros(len(part), dtype=np.uint64)
                with np.errstate(over="ignore"):  # order-free set digest (wrapping sum of mixed hashes), plus size
                    key[nonempty] = np.add.reduceat(splitmix(hashes), offsets[:-1][nonempty])
                    set_key[lo:lo + len(part)] = splitmix(key ^ part.astype(np.uint64))
            sig[lo:lo + len(part)] = minhash_signatures(hashes, offsets, p.num_perm)
            del hashes, offsets
        nonempty = sizes > 0
        cand = np.flatnonzero(nonempty)
        uniq_keys, first_idx, inverse = np.unique(set_key[cand], return_index=True, return_inverse=True)
        reps = cand[first_idx]  # representative (first row) of each distinct set
        exact_pairs = np.stack([reps[inverse], cand], axis=1)
        exact_pairs = exact_pairs[exact_pairs[:, 0] != exact_pairs[:, 1]]
        # 2. MinHash + LSH over the representatives
        lsh_t = min(p.threshold, p.curve_min)
        bands, rows_per_band = optimal_bands(lsh_t, p.num_perm)
        reps = np.sort(reps)
        for k0 in range(0, len(reps), SHINGLE_ROWS):  # compact in place (reps[i] >= i): no second (n, perm) copy
            chunk = reps[k0:k0 + SHINGLE_ROWS]
            sig[k0:k0 + len(chunk)] = sig[chunk]
        sig = sig[:len(reps)]
        local = lsh_candidates(sig, bands, rows_per_band)
        del sig
        cand_pairs = reps[local] if len(local) else np.zeros((0, 2), dtype=np.int64)
        # 3. verification with true Jaccard, on the shingles of the rows in candidate pairs
        involved = np.unique(cand_pairs)
        hashes, offsets = subset(involved)
        jac = true_jaccard(hashes, offsets, np.searchsorted(involved, cand_pairs))
        return self.finish(ctx, cand_pairs, exact_pairs, jac, bands, rows_per_band, lsh_t)

    def finish(self, ctx: CheckContext, cand_pairs: np.ndarray, exact_pairs: np.ndarray, jac: np.ndarray,
               bands: int, rows_per_band: int, lsh_t: float) -> CheckResult:
        """Threshold, groups and the threshold-tuning summary from verified pairs (shared with the Ray runner,
        which finds the same pairs with Ray stages)."""
        p = self.params
        n = len(ctx)
        floor = HIST_EDGES[0]
        kept_cand = jac >= floor - 1e-12
        pairs_all = np.concatenate([cand_pairs[kept_cand], exact_pairs])
        sims_all = np.concatenate([jac[kept_cand], np.ones(len(exact_pairs))])
        accepted = sims_all >= p.threshold - 1e-12
        pairs, sims = pairs_all[accepted], sims_all[accepted]
        group_id, keep, reason, score, stats = build_groups(ctx, pairs, sims, p.keep)
        # 4. threshold-tuning material
        hist, _ = np.histogram(sims_all, bins=HIST_EDGES)
        row_ids = ctx.rows["row_id"].to_numpy(dtype=np.int64)
        shown = np.argsort(-sims, kind="stable")[:PAIR_SAMPLE] if len(sims) else np.zeros(0, dtype=np.int64)
        below = np.flatnonzero(~accepted)
        below = below[np.argsort(-sims_all[below], kind="stable")][:PAIR_SAMPLE // 4]
        summary = {
            "scope": p.scope, "keep_rule": p.keep, "bands": bands, "rows_per_band": rows_per_band,
            "lsh_threshold": lsh_t, "rows_in_groups": int((group_id >= 0).sum()), **stats,
            "candidate_pairs": int(len(cand_pairs)), "exact_pairs": int(len(exact_pairs)),
            "verified_pairs": int(len(pairs)),
            "pairs": [{"a": int(row_ids[i]), "b": int(row_ids[j]), "jaccard": round(float(s), 4)}
                      for (i, j), s in zip(pairs[shown].tolist(), sims[shown].tolist(), strict=True)],
            "pairs_below": [{"a": int(row_ids[i]), "b": int(row_ids[j]), "jaccard": round(float(s), 4)}
                            for (i, j), s in zip(pairs_all[below].tolist(), sims_all[below].tolist(),
                                                 strict=True)],
            "jaccard_histogram": {"edges": HIST_EDGES.tolist(), "counts": hist.astype(int).tolist()},
            "removed_by_threshold": removed_curve(n, pairs_all, sims_all, HIST_EDGES, keep_order(ctx, p.keep)),
        }
        issue = reason != ""
        return self.result(ctx, score=score, is_issue=issue, reason=reason, group_id=group_id, keep=keep,
                           summary=summary)
