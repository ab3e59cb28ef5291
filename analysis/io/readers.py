"""Read raw records out of JSONL, JSON, CSV/TSV and Parquet files (each optionally gzipped).

Readers only turn bytes into `dict` records and say where each came from; they know nothing
about chat or preference data. A broken record is yielded as a `BadRecord` rather than raised, so
the loader can either stop with a clear message (strict, the default) or skip it and report it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.io.errors import LoadError

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet")
_SUFFIX_FORMAT = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
                  ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class RawRecord:
    """One record as found in the file. `raw` is the exact JSON text of a JSONL line."""

    index: int
    line: int | None
    data: dict[str, Any]
    raw: str | None = None


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be parsed; the loader decides whether this stops the load."""

    index: int
    line: int | None
    error: str


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def sniff_format(path: Path) -> str:
    """Format from the suffix (after any `.gz`), falling back to the first bytes.

    A delimited suffix (`.csv`, `.tsv`, `.txt`) only says "delimited": tab or comma is read from the content,
    because tab-separated files named `.csv` are common (STS Benchmark's `sts-dev.csv`).
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    by_suffix = _SUFFIX_FORMAT.get(suffixes[-1]) if suffixes else None
    if by_suffix is not None and by_suffix not in ("csv", "tsv"):
        return by_suffix
    head = read_head(path)
    if by_suffix is not None:
        return sniff_delimited(head, default=by_suffix)
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first = text.split(b"\n", 1)[0].strip()
        return "jsonl" if first.endswith(b"}") else "json"
    return sniff_delimited(head, default="csv")


def sniff_delimited(head: bytes, *, default: str) -> str:
    """`tsv` or `csv` from the first lines: tab-separated when every sampled line holds a tab and commas do not
    split the lines into a steady number of fields; `default` (the suffix's) when both or neither fit."""
    lines = [ln for ln in head.split(b"\n")[:-1] if ln.strip()][:50] or [ln for ln in head.split(b"\n") if ln.strip()]
    if not lines:
        return default
    tabs = [ln.count(b"\t") for ln in lines]
    commas = [ln.count(b",") for ln in lines]

    def steady(counts: list[int]) -> bool:
        top, n = Counter(counts).most_common(1)[0]
        return top > 0 and n >= 0.8 * len(counts)

    tab_fit = min(tabs) > 0
    comma_fit = steady(commas)
    if tab_fit and not comma_fit:
        return "tsv"
    if comma_fit and not tab_fit:
        return "csv"
    return default


def read_head(path: Path, n: int = 65536) -> bytes:
    """The first `n` bytes of the (gunzipped) content, without reading the rest."""
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as fh:
                return fh.read(n)
        with open(path, "rb") as fh:
            return fh.read(n)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc


def read_bytes(path: Path) -> bytes:
    """The file's content, transparently gunzipped."""
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc


def _check_text(data: bytes, path: Path, fmt: str) -> bytes:
    if not data.strip():
        raise LoadError("the file is empty: no records to load", path=str(path))
    head = data[:8192]
    if b"\x00" in head:
        raise LoadError(f"this looks like a binary file (NUL bytes in the first 8 KB), not {fmt.upper()} text",
                        path=str(path))
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at column {exc.start + 1} (byte 0x{raw[exc.start]:02x})") from exc


def _runs_to_end(exc: json.JSONDecodeError) -> bool:
    """The decoder hit the end of the text mid-value: the record was cut off, not mistyped.

    An unterminated string also counts: in strict mode a raw newline inside a string is its own
    error, so "Unterminated string" means the text ended before the closing quote.
    """
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(exc.doc.rstrip())


def json_error(exc: json.JSONDecodeError) -> str:
    if _runs_to_end(exc):
        return "the line ends in the middle of a JSON record (truncated?)"
    return f"invalid JSON at column {exc.colno}: {exc.msg}"


def json_type_name(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def iter_jsonl(path: Path) -> Iterator[RawRecord | BadRecord]:
    data = _check_text(read_bytes(path), path, "jsonl")
    index = 0
    for line_no, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            text = decode_line(raw_line).rstrip("\r")
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield BadRecord(index, line_no, json_error(exc))
        except ValueError as exc:
            yield BadRecord(index, line_no, str(exc))
        else:
            if isinstance(value, dict):
                yield RawRecord(index, line_no, value, text)
            else:
                yield BadRecord(index, line_no, f"expected a JSON object per line, found {json_type_name(value)}")
        index += 1


def _unwrap(value: Any, path: Path) -> tuple[list[Any] | None, str]:
    """Find the record list in a JSON document: an array, `{"data": [...]}`, or `{key: {...}}`."""
    if isinstance(value, list):
        return value, ""
    if isinstance(value, dict):
        list_keys = [k for k, v in value.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(list_keys) == 1:
            return value[list_keys[0]], list_keys[0]
        if len(list_keys) > 1:
            preferred = [k for k in ("data", "rows", "records", "examples", "train", "items") if k in list_keys]
            if preferred:
                return value[preferred[0]], preferred[0]
            raise LoadError(f"the JSON object holds several record lists ({', '.join(list_keys)}); "
                            "load one of them or split the file", path=str(path))
        if value and all(isinstance(v, dict) for v in value.values()):
            return [{"key": k, **v} for k, v in value.items()], "<keys>"
        return [value], ""
    raise LoadError(f"expected a JSON array of records or an object wrapping one, found {json_type_name(value)}",
                    path=str(path))


def iter_json(path: Path) -> Iterator[RawRecord | BadRecord]:
    data = _check_text(read_bytes(path), path, "json")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise LoadError(f"invalid UTF-8 at column {column} (byte 0x{data[exc.start]:02x})",
                        path=str(path), line=line) from exc
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _iter_json_array(text, path)
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and stripped.startswith("{"):
            # JSON Lines saved with a .json suffix: read it as such rather than failing.
            yield from iter_jsonl(path)
            return
        msg = ("the file ends in the middle of the JSON document (truncated JSON)" if _runs_to_end(exc)
               else f"invalid JSON at column {exc.colno}: {exc.msg}")
        raise LoadError(msg, path=str(path), line=exc.lineno) from exc
    records, _ = _unwrap(value, path)
    for i, rec in enumerate(records or []):
        if isinstance(rec, dict):
            yield RawRecord(i, None, rec)
        else:
            yield BadRecord(i, None, f"expected a JSON object, found {json_type_name(rec)}")


_WS = re.compile(r"[ \t\r\n]*")


def _iter_json_array(text: str, path: Path) -> Iterator[RawRecord | BadRecord]:
    """Decode a top-level array element by element so a truncated file still yields its good prefix."""
    decoder = json.JSONDecoder()
    n = len(text)
    pos = text.index("[") + 1
    line, counted = 1, 0  # newlines are counted incrementally: text.count from 0 each time is quadratic

    def line_at(p: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, p)
        counted = p
        return line

    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    if pos < n and text[pos] == "]":
        raise LoadError("the file is an empty JSON array: no records to load", path=str(path))
    index = 0
    while True:
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        rec_line = line_at(pos)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            truncated = _runs_to_end(exc)
            at = f"column {exc.colno}" if exc.lineno == rec_line else f"line {exc.lineno}, column {exc.colno}"
            msg = ("the file ends in the middle of this record (truncated JSON)" if truncated
                   else f"invalid JSON at {at}: {exc.msg}; the records after it cannot be read")
            yield BadRecord(index, rec_line, msg)
            return
        if isinstance(value, dict):
            yield RawRecord(index, rec_line, value)
        else:
            yield BadRecord(index, rec_line, f"expected a JSON object, found {json_type_name(value)}")
        index += 1
        pos = _WS.match(text, end).end()  # type: ignore[union-attr]
        if pos >= n:
            yield BadRecord(index, line_at(n), "the file ends before the closing ']' (truncated JSON)")
            return
        if text[pos] == "]":
            return
        if text[pos] != ",":
            yield BadRecord(index, line_at(pos), f"expected ',' or ']' between records, found {text[pos]!r}")
            return
        pos += 1


def _looks_like_header(cells: list[str]) -> bool:
    """A first row is a header when every cell is a short, distinct, non-numeric label."""
    if not cells or len(set(cells)) != len(cells):
        return False
    for cell in cells:
        c = cell.strip()
        if not c or len(c) > 64 or len(c.split()) > 5:
            return False
        try:
            float(c)
            return False
        except ValueError:
            pass
    return True


def iter_delimited(path: Path, *, delimiter: str, header: bool | None = None, quoting: bool | None = None,
                   notices: list[str] | None = None) -> Iterator[RawRecord | BadRecord]:
    """CSV/TSV; header detected unless given.

    CSV honours quoting (quoted fields, embedded newlines). TSV has no quoting convention, and real TSV text holds
    literal `"` characters (STS Benchmark, SICK), so TSV is read without quote processing unless `quoting=True`:
    honouring quotes there silently merges rows. A row with more fields than the first row keeps its extra trailing
    fields as `col_<n>` (their position) and is reported in `notices` when the file has no header (its columns
    are positions anyway); under a header, more or fewer fields than it names is a bad record (an unquoted
    delimiter, a shifted row).
    """
    data = _check_text(read_bytes(path), path, "tsv" if delimiter == "\t" else "csv")
    try:
        text, bad_utf8 = data.decode("utf-8"), False
    except UnicodeDecodeError:
        # Decode anyway, keeping bad bytes as lone surrogates, so each affected record can be reported
        # (or skipped) with its own line number instead of failing the whole file.
        text, bad_utf8 = data.decode("utf-8", errors="surrogateescape"), True
    csv.field_size_limit(sys.maxsize)
    quoted = delimiter == "," if quoting is None else quoting
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
    start_line = 1
    columns: list[str] | None = None
    index = 0
    ragged: list[int] = []
    most, named = 0, False
    try:
        for cells in reader:
            line = start_line
            start_line = reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            bad_cell = _bad_utf8_cell(cells) if bad_utf8 else None
            if columns is None:
                if bad_cell is not None:
                    raise LoadError(_bad_utf8_message(cells[bad_cell], f"column {bad_cell + 1}"), path=str(path),
                                    line=line)
                is_header = _looks_like_header(cells) if header is None else header
                if is_header:
                    columns, named = [c.strip() for c in cells], True
                    continue
                columns = [f"col_{i}" for i in range(len(cells))]
            if len(cells) < len(columns) or (len(cells) > len(columns) and named):
                hint = ('; some fields open with \'"\': if the file quotes its fields, load it with quoting on '
                        "(--quoting yes)") if not quoted and any(c.startswith('"') for c in cells) else ""
                yield BadRecord(index, line, f"expected {len(columns)} fields, found {len(cells)}{hint}")
            elif bad_cell is not None:
                yield BadRecord(index, line, _bad_utf8_message(cells[bad_cell], f"column '{columns[bad_cell]}'"))
            else:
                row = dict(zip(columns, cells[:len(columns)], strict=True))
                if len(cells) > len(columns):
                    ragged.append(line)
                    most = max(most, len(cells))
                    row.update((f"col_{i}", cells[i]) for i in range(len(columns), len(cells)))
                yield RawRecord(index, line, row)
            index += 1
    except csv.Error as exc:
        yield BadRecord(index, start_line, f"malformed {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}")
    if ragged and notices is not None and columns is not None:
        extra = ", ".join(f"col_{i}" for i in range(len(columns), most))
        lines = ", ".join(map(str, ragged[:5])) + (", ..." if len(ragged) > 5 else "")
        notices.append(f"{len(ragged):,} rows have more fields than the {len(columns)} of the first "
                       f"row; their extra trailing fields are kept as {extra} (lines {lines})")


_SURROGATE = re.compile("[\udc80-\udcff]")


def _bad_utf8_cell(cells: list[str]) -> int | None:
    return next((i for i, c in enumerate(cells) if _SURROGATE.search(c)), None)


def _bad_utf8_message(cell: str, where: str) -> str:
    byte = next(ord(ch) - 0xDC00 for ch in cell if "\udc80" <= ch <= "\udcff")
    return f"invalid UTF-8 in {where} (byte 0x{byte:02x})"


def iter_records(path: Path, fmt: str, *, header: bool | None = None, quoting: bool | None = None,
                 notices: list[str] | None = None) -> Iterator[RawRecord | BadRecord]:
    """Dispatch on format; the one entry point the loaders use. `notices` collects what was read but is worth
    saying (e.g. ragged rows), for the load info."""
    if fmt == "jsonl":
        return iter_jsonl(path)
    if fmt == "json":
        return iter_json(path)
    if fmt == "csv":
        return iter_delimited(path, delimiter=",", header=header, quoting=quoting, notices=notices)
    if fmt == "tsv":
        return iter_delimited(path, delimiter="\t", header=header, quoting=quoting, notices=notices)
    if fmt == "parquet":
        return _iter_parquet(path)
    raise LoadError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", path=str(path))


def _iter_parquet(path: Path) -> Iterator[RawRecord | BadRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_bytes(path)
    if not data:
        raise LoadError("the file is empty: no records to load", path=str(path))
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LoadError(f"not a readable Parquet file ({exc})", path=str(path)) from exc
    if table.num_rows == 0:
        raise LoadError("the Parquet file has no rows", path=str(path))
    index = 0
    for batch in table.to_batches(max_chunksize=10_000):
        for rec in batch.to_pylist():
            yield RawRecord(index, None, rec)
            index += 1
