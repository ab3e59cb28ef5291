"""Read raw records out of JSONL, JSON, CSV/TSV and Parquet files (each optionally gzipped).

Readers only turn bytes into `dict` records and say where each came from; they know nothing
about chat or preference data. A broken record is yielded as a `BadRecord` rather than raised, so
the loader can either stop with a clear message (strict, the default) or skip it and report it.

Every reader streams: a file (gunzipped on the fly) is read in chunks, never whole then copied, so memory follows
the records kept, not the bytes read. Gzip expansion is bounded (`max_expansion`): a decompression bomb is one
clear error, found from the gzip trailer before anything is read when it tells the truth, else while streaming.
A `.gz` cut short keeps the complete records before the cut (a `BadRecord` marks the cut).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from analysis.io.errors import LoadError, NotADataset

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet")
_SUFFIX_FORMAT = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
                  ".txt": "tsv", ".parquet": "parquet", ".pq": "parquet"}
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_EXPANSION = 100.0
"""Gunzipped bytes allowed per compressed byte read so far. Text and JSON gzip 3-15x, very repetitive data rarely
past 50x; a bomb runs at ~1000x from its first block. Checked only past `EXPANSION_FLOOR` of output, so small
files never trip it and a bomb is stopped after at most that much text."""
EXPANSION_FLOOR = 32 << 20
_CHUNK = 1 << 20
GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)


@dataclass(frozen=True)
class RawRecord:
    """One record as found in the file. `raw` is the exact JSON text of a JSONL line."""

    index: int
    line: int | None
    data: dict[str, Any]
    raw: str | None = None


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be parsed; the loader decides whether this stops the load.

    `byte` (JSON documents) is the offset in the (gunzipped) text where the record starts: in a one-line JSON array
    the line says nothing, so the message names the record index and the byte."""

    index: int
    line: int | None
    error: str
    byte: int | None = None


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def _bomb(path: Path, produced: int, consumed: int, max_expansion: float) -> LoadError:
    return LoadError(f"the gzip file expands {produced / max(consumed, 1):,.0f}x ({produced / 2**20:,.0f} MiB from "
                     f"its first {consumed / 2**20:,.2f} MiB), over the {max_expansion:g}x expansion limit "
                     "(a decompression bomb?); if the data really is that repetitive, raise the limit "
                     "(--max-expansion)", path=str(path))


class _BoundedGzip(io.RawIOBase):
    """A gzip stream that raises a LoadError once its output outgrows `max_expansion` times the compressed
    bytes consumed so far (past `EXPANSION_FLOOR`): a bomb is stopped within its first MiBs, whatever its
    trailer claims (a truncated file's trailer is garbage, so it is never trusted)."""

    def __init__(self, path: Path, max_expansion: float) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="rb")
        self._path, self._max = path, max_expansion
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._gz.readinto1(b)  # read1: what was gunzipped before a cut is returned, not lost with it
        self.produced += n
        if self.produced > EXPANSION_FLOOR and self.produced > self._max * self._raw.tell():
            raise _bomb(self._path, self.produced, self._raw.tell(), self._max)
        return n

    def close(self) -> None:
        self._gz.close()
        self._raw.close()
        super().close()


def open_data(path: Path, max_expansion: float = DEFAULT_MAX_EXPANSION) -> BinaryIO:
    """The file's content as a buffered binary stream, gunzipped on the fly and bounded (`_BoundedGzip`)."""
    try:
        if not is_gzip(path):
            return open(path, "rb", buffering=_CHUNK)  # noqa: SIM115 - the caller closes it
        return io.BufferedReader(_BoundedGzip(path, max_expansion), buffer_size=_CHUNK)  # type: ignore[return-value]
    except OSError as exc:
        raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc


def read_head(path: Path, n: int = 65536) -> bytes:
    """The first `n` bytes of the (gunzipped) content, without reading the rest."""
    parts: list[bytes] = []
    try:
        with open_data(path, float("inf")) as fh:
            while (got := sum(map(len, parts))) < n and (part := fh.read1(n - got)):  # type: ignore[attr-defined]
                parts.append(part)
    except GZIP_ERRORS as exc:
        if not parts:  # a cut file still has a head: the reader says where it ends
            raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc
    return b"".join(parts)


def read_bytes(path: Path, max_expansion: float = DEFAULT_MAX_EXPANSION) -> bytes:
    """The whole (gunzipped, bounded) content: for the formats that need it whole (Parquet, JSON objects)."""
    try:
        with open_data(path, max_expansion) as fh:
            return fh.read()
    except GZIP_ERRORS as exc:
        raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc


def _start_text(fh: BinaryIO, path: Path, fmt: str) -> None:
    """Refuse binary content; step over a UTF-8 BOM. (Emptiness is found by the reader: no record seen.)"""
    head = fh.peek(8192)[:8192]  # type: ignore[attr-defined]
    if b"\x00" in head:
        raise LoadError(f"this looks like a binary file (NUL bytes in the first 8 KB), not {fmt.upper()} text",
                        path=str(path))
    if head.startswith(_BOM):
        fh.read(3)


def _cut_short(exc: BaseException) -> str:
    return f"the compressed file is cut short here ({exc}); the records before it are complete"


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


TOO_DEEP = ("the JSON nests deeper than the parser's recursion limit (~1,000 levels; "
            "a malformed or hostile record?)")


def json_type_name(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def lone_surrogate(value: Any, text: str, start: int = 0, end: int | None = None) -> str | None:
    """A message if a string (key or value) holds a lone UTF-16 surrogate (`"\\ud800"`), else None.

    JSON allows the escape, Python keeps it, but it is not Unicode: it fails later when the row is written (Arrow,
    SQLite, stdout). Only texts holding a `\\uD...` escape are walked, so clean records cost one substring test."""
    if _ESCAPED_SURROGATE.search(text, start, len(text) if end is None else end) is None:
        return None
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        v, where = stack.pop()
        if isinstance(v, dict):
            for k, item in v.items():
                name = f"{where}.{k}" if where else str(k)
                if isinstance(k, str) and _LONE.search(k):
                    return _surrogate_message(k, f"key {_safe(k)!s}" + (f" in field '{_safe(where)}'" if where else ""))
                stack.append((item, name))
        elif isinstance(v, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(v))
        elif isinstance(v, str) and _LONE.search(v):
            return _surrogate_message(v, f"field '{_safe(where)}'" if where else "the value")
    return None


_LONE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD]")


def _safe(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _surrogate_message(text: str, where: str) -> str:
    ch = _LONE.search(text).group()  # type: ignore[union-attr]
    return (f"lone surrogate \\u{ord(ch):04x} in {where}: not valid Unicode (half of an escaped emoji pair?); "
            "fix the escape or skip the record")


def parse_jsonl_line(raw: bytes, index: int, line: int) -> RawRecord | BadRecord | None:
    """One JSONL line (without its newline) as a record, a bad record, or None for a blank line.

    Shared with the Ray loader so both read every line the same way."""
    if not raw.strip():
        return None
    try:
        text = decode_line(raw).rstrip("\r")
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadRecord(index, line, json_error(exc))
    except RecursionError:
        return BadRecord(index, line, TOO_DEEP)
    except ValueError as exc:
        return BadRecord(index, line, str(exc))
    if not isinstance(value, dict):
        return BadRecord(index, line, f"expected a JSON object per line, found {json_type_name(value)}")
    bad = lone_surrogate(value, text)
    if bad is not None:
        return BadRecord(index, line, bad)
    return RawRecord(index, line, value, text)


def iter_jsonl(path: Path, max_expansion: float = DEFAULT_MAX_EXPANSION) -> Iterator[RawRecord | BadRecord]:
    with open_data(path, max_expansion) as fh:
        index, line_no = 0, 0
        try:
            _start_text(fh, path, "jsonl")
            for line_no, raw_line in enumerate(fh, start=1):  # noqa: B007 - line_no is read after the loop
                rec = parse_jsonl_line(raw_line.rstrip(b"\n"), index, line_no)
                if rec is not None:
                    yield rec
                    index += 1
        except GZIP_ERRORS as exc:
            if index == 0 and line_no == 0:
                raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc
            yield BadRecord(index, line_no + 1, _cut_short(exc))
            return
    if index == 0:
        raise NotADataset("the file is empty: no records to load", path=str(path))


def _unwrap(value: Any, path: Path, lone_object: bool = True) -> tuple[list[Any] | None, str]:
    """Find the record list in a JSON document: an array, `{"data": [...]}`, or `{key: {...}}`; a lone object
    is one record only when `lone_object` (a file loaded alone: beside others it is a sidecar)."""
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
            raise NotADataset(f"the JSON object holds several record lists ({', '.join(list_keys)}); "
                            "load one of them or split the file", path=str(path))
        if value and all(isinstance(v, dict) for v in value.values()):
            return [{"key": k, **v} for k, v in value.items()], "<keys>"
        if not lone_object:
            raise NotADataset(f"one JSON object with {len(value):,} keys, not a list of records (metadata beside "
                              "the data?)", path=str(path))
        return [value], ""
    raise NotADataset(f"expected a JSON array of records or an object wrapping one, found {json_type_name(value)}",
                    path=str(path))


class _TextWindow:
    """The decoded text of a binary stream, read in growing chunks; consumed text is dropped, and positions are
    kept absolute (line, byte) so messages point into the whole file."""

    def __init__(self, fh: BinaryIO, path: Path) -> None:
        self.fh, self.path = fh, path
        self.dec = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.eof = False
        self.base_line, self.base_byte = 1, 0  # at buf[0]
        self.fed, self.last_nl = 0, -1  # bytes fed to the decoder; absolute offset of the last newline fed
        self.counted, self.line = 0, 1  # lines counted up to buf[counted]
        self.cut: BaseException | None = None

    def more(self, n: int = _CHUNK) -> bool:
        """Append about `n` more bytes of text; False at the end of the file."""
        if self.eof:
            return False
        if self.cut is not None:  # the stream broke after the text before it was handed out: now say so
            raise self.cut
        parts, got = [], 0
        try:
            while got < n:
                part = self.fh.read1(n - got)  # type: ignore[attr-defined]
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except GZIP_ERRORS as exc:
            if not parts:
                raise
            self.cut = exc
        chunk = b"".join(parts)
        pending = self.dec.getstate()[0]
        try:
            text = self.dec.decode(chunk, final=not chunk and self.cut is None)
        except UnicodeDecodeError as exc:
            data = pending + chunk
            at = self.fed - len(pending) + exc.start
            nl = data.rfind(b"\n", 0, exc.start)
            last_nl = self.fed - len(pending) + nl if nl >= 0 else self.last_nl
            line = self.base_line + self.buf.count("\n") + data.count(b"\n", 0, exc.start)
            raise LoadError(f"invalid UTF-8 at column {at - last_nl} (byte 0x{data[exc.start]:02x})",
                            path=str(self.path), line=line) from exc
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            self.last_nl = self.fed + nl
        self.fed += len(chunk)
        self.buf += text
        if not chunk and self.cut is None:
            self.eof = True
        return bool(chunk) or bool(text)

    def line_at(self, pos: int) -> int:
        self.line += self.buf.count("\n", self.counted, pos)
        self.counted = pos
        return self.line

    def byte_at(self, pos: int) -> int:
        return self.base_byte + len(self.buf[:pos].encode("utf-8", "surrogatepass"))

    def drop(self, pos: int) -> None:
        """Forget the text before `pos` (already parsed)."""
        self.line_at(pos)
        self.base_line = self.line
        self.base_byte += len(self.buf[:pos].encode("utf-8", "surrogatepass"))
        self.buf = self.buf[pos:]
        self.counted = 0

    def skip_ws(self, pos: int) -> int:
        """The first non-whitespace position at or after `pos` (len(buf) at the end of the file)."""
        while True:
            pos = _WS.match(self.buf, pos).end()  # type: ignore[union-attr]
            if pos < len(self.buf) or not self.more():
                return pos

    def decode(self, decoder: json.JSONDecoder, pos: int) -> tuple[Any, int]:
        """One JSON value starting at `pos`, reading more text while the value runs past the window."""
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, pos)
            except json.JSONDecodeError as exc:
                if not self.eof and _runs_to_end(exc) and self.more(max(_CHUNK, len(self.buf) - pos)):
                    continue
                raise
            if end >= len(self.buf) and not self.eof and self.more():
                continue  # a number or literal may go on in the next chunk
            return value, end


_WS = re.compile(r"[ \t\r\n]*")


def iter_json(path: Path, max_expansion: float = DEFAULT_MAX_EXPANSION, *, lone_object: bool = True
              ) -> Iterator[RawRecord | BadRecord]:
    """A JSON document: an array is streamed record by record; another document is parsed whole.

    Whatever follows the document is never ignored: a second document (concatenated files) or stray text is a bad
    record at its byte offset; under skip_bad_lines a second document's records still load."""
    with open_data(path, max_expansion) as fh:
        win: _TextWindow | None = None
        index = 0
        try:
            _start_text(fh, path, "json")
            win = _TextWindow(fh, path)
            pos = win.skip_ws(0)
            if pos >= len(win.buf):
                raise NotADataset("the file is empty: no records to load", path=str(path))
            if win.buf[pos] == "[":
                for rec in _iter_json_array(win, pos, path):
                    index = rec.index + 1
                    yield rec
                return
            while win.more(max(_CHUNK, len(win.buf))):
                pass
        except GZIP_ERRORS as exc:
            if win is None or not win.buf:
                raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc
            yield BadRecord(index, win.line_at(len(win.buf)), _cut_short(exc), win.byte_at(len(win.buf)))
            return
    yield from _iter_json_documents(win.buf, path, lone_object)


def _iter_json_documents(text: str, path: Path, lone_object: bool) -> Iterator[RawRecord | BadRecord]:
    """A JSON object document (or several, concatenated), each unwrapped into its records."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    try:
        value, end = decoder.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        msg = ("the file ends in the middle of the JSON document (truncated JSON)" if _runs_to_end(exc)
               else f"invalid JSON at column {exc.colno}: {exc.msg}")
        raise LoadError(msg, path=str(path), line=exc.lineno) from exc
    except RecursionError as exc:
        raise LoadError(TOO_DEEP, path=str(path)) from exc
    rest = _WS.match(text, end).end()  # type: ignore[union-attr]
    if rest < len(text) and text[pos] == "{" and "\n" not in text[pos:end]:
        # JSON Lines saved with a .json suffix (the first object ends on the first line): read it as such.
        yield from _jsonl_from_text(text)
        return
    index = 0
    for doc in range(1, 1 << 62):
        bad = lone_surrogate(value, text[pos:end])
        if bad is not None:
            raise LoadError(bad, path=str(path), line=text.count("\n", 0, pos) + 1)
        records, _ = _unwrap(value, path, lone_object)
        for rec in records or []:
            if isinstance(rec, dict):
                yield RawRecord(index, None, rec)
            else:
                yield BadRecord(index, None, f"expected a JSON object, found {json_type_name(rec)}")
            index += 1
        if rest >= len(text):
            return
        line, byte = text.count("\n", 0, rest) + 1, len(text[:rest].encode("utf-8", "surrogatepass"))
        try:
            value, end = decoder.raw_decode(text, rest)
        except (json.JSONDecodeError, RecursionError):
            yield BadRecord(index, line, f"unexpected text after the JSON document: {_snippet(text, rest)}", byte)
            return
        yield BadRecord(index, line, f"JSON document {doc + 1} starts here, after the end of document {doc} "
                                     "(concatenated files?); only one document per file is read, unless skipping "
                                     "bad records, which reads them all", byte)
        pos, rest = rest, _WS.match(text, end).end()  # type: ignore[union-attr]


def _snippet(text: str, pos: int) -> str:
    return repr(_safe(text[pos:pos + 20]) + ("..." if len(text) > pos + 20 else ""))


def _jsonl_from_text(text: str) -> Iterator[RawRecord | BadRecord]:
    index = 0
    for line_no, line in enumerate(text.split("\n"), start=1):
        rec = parse_jsonl_line(line.encode("utf-8", "surrogatepass"), index, line_no)
        if rec is not None:
            yield rec
            index += 1


def _iter_json_array(win: _TextWindow, pos: int, path: Path) -> Iterator[RawRecord | BadRecord]:
    """Decode a top-level array element by element (streamed), so a truncated file still yields its good prefix
    and memory holds one window of text, not the file. After the closing ']' only whitespace may follow: another
    array (concatenated files) is reported and, when skipping, read too; other text is reported."""
    decoder = json.JSONDecoder()
    pos = win.skip_ws(pos + 1)
    if pos < len(win.buf) and win.buf[pos] == "]" and win.skip_ws(pos + 1) >= len(win.buf):
        raise NotADataset("the file is an empty JSON array: no records to load", path=str(path))
    index, arrays, opened = 0, 1, True
    while True:
        pos = win.skip_ws(pos)
        if pos > _CHUNK:
            win.drop(pos)
            pos = 0
        if not (opened and pos < len(win.buf) and win.buf[pos] == "]"):  # `[]`: an empty array
            rec_line = win.line_at(pos)  # the byte offset is worked out only for a bad record: it costs a copy
            try:
                value, end = win.decode(decoder, pos)
            except json.JSONDecodeError as exc:
                lineno = rec_line + exc.doc.count("\n", pos, exc.pos)
                col = exc.pos - exc.doc.rfind("\n", 0, exc.pos)
                at = f"column {col}" if lineno == rec_line else f"line {lineno}, column {col}"
                msg = ("the file ends in the middle of this record (truncated JSON)" if _runs_to_end(exc)
                       else f"invalid JSON at {at}: {exc.msg}; the records after it cannot be read")
                yield BadRecord(index, rec_line, msg, win.byte_at(pos))
                return
            except RecursionError:
                yield BadRecord(index, rec_line, TOO_DEEP + "; the records after it cannot be read", win.byte_at(pos))
                return
            if not isinstance(value, dict):
                yield BadRecord(index, rec_line, f"expected a JSON object, found {json_type_name(value)}",
                                win.byte_at(pos))
            else:
                bad = lone_surrogate(value, win.buf, pos, end)
                yield (BadRecord(index, rec_line, bad, win.byte_at(pos)) if bad is not None
                       else RawRecord(index, rec_line, value))
            index += 1
            pos = win.skip_ws(end)
        opened = False
        if pos >= len(win.buf):
            yield BadRecord(index, win.line_at(pos), "the file ends before the closing ']' (truncated JSON)",
                            win.byte_at(pos))
            return
        if win.buf[pos] == ",":
            pos += 1
            continue
        if win.buf[pos] != "]":
            yield BadRecord(index, win.line_at(pos), f"expected ',' or ']' between records, found "
                                                     f"{_snippet(win.buf, pos)}", win.byte_at(pos))
            return
        pos = win.skip_ws(pos + 1)
        if pos >= len(win.buf):
            return
        line, byte = win.line_at(pos), win.byte_at(pos)
        if win.buf[pos] != "[":
            yield BadRecord(index, line, f"unexpected text after the closing ']' of the JSON array: "
                                         f"{_snippet(win.buf, pos)}", byte)
            return
        arrays += 1
        yield BadRecord(index, line, f"JSON array {arrays} starts here, after the end of array {arrays - 1} "
                                     "(concatenated files?); only one array per file is read, unless skipping bad "
                                     "records, which reads them all", byte)
        pos, opened = pos + 1, True


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
                   notices: list[str] | None = None, max_expansion: float = DEFAULT_MAX_EXPANSION
                   ) -> Iterator[RawRecord | BadRecord]:
    """CSV/TSV; header detected unless given.

    CSV honours quoting (quoted fields, embedded newlines). TSV has no quoting convention, and real TSV text holds
    literal `"` characters (STS Benchmark, SICK), so TSV is read without quote processing unless `quoting=True`:
    honouring quotes there silently merges rows. A row with more fields than the first row keeps its extra trailing
    fields as `col_<n>` (their position) and is reported in `notices` when the file has no header (its columns
    are positions anyway); under a header, more or fewer fields than it names is a bad record (an unquoted
    delimiter, a shifted row).
    """
    fmt = "tsv" if delimiter == "\t" else "csv"
    with open_data(path, max_expansion) as fh:
        _start_text(fh, path, fmt)
        # Bad bytes decode as lone surrogates (surrogateescape), so each affected record is reported (or skipped)
        # with its own line number instead of failing the whole file.
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline="")
        yield from _iter_cells(text, path, delimiter, header, quoting, notices)
        text.detach()


def _iter_cells(text: io.TextIOWrapper, path: Path, delimiter: str, header: bool | None, quoting: bool | None,
                notices: list[str] | None) -> Iterator[RawRecord | BadRecord]:
    csv.field_size_limit(sys.maxsize)
    quoted = delimiter == "," if quoting is None else quoting
    reader = csv.reader(text, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE)
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
            bad_cell = _bad_utf8_cell(cells)
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
    except GZIP_ERRORS as exc:
        if columns is None:
            raise LoadError(f"cannot read file ({exc})", path=str(path)) from exc
        yield BadRecord(index, start_line, _cut_short(exc))
        return
    if columns is None:
        raise NotADataset("the file is empty: no records to load", path=str(path))
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
                 notices: list[str] | None = None, max_expansion: float = DEFAULT_MAX_EXPANSION,
                 lone_object: bool = True) -> Iterator[RawRecord | BadRecord]:
    """Dispatch on format; the one entry point the loaders use. `notices` collects what was read but is worth
    saying (e.g. ragged rows), for the load info."""
    if fmt == "jsonl":
        return iter_jsonl(path, max_expansion)
    if fmt == "json":
        return iter_json(path, max_expansion, lone_object=lone_object)
    if fmt in ("csv", "tsv"):
        return iter_delimited(path, delimiter="," if fmt == "csv" else "\t", header=header, quoting=quoting,
                              notices=notices, max_expansion=max_expansion)
    if fmt == "parquet":
        return _iter_parquet(path, max_expansion)
    raise LoadError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", path=str(path))


def _iter_parquet(path: Path, max_expansion: float) -> Iterator[RawRecord | BadRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_bytes(path, max_expansion)
    if not data:
        raise NotADataset("the file is empty: no records to load", path=str(path))
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LoadError(f"not a readable Parquet file ({exc})", path=str(path)) from exc
    if table.num_rows == 0:
        raise NotADataset("the Parquet file has no rows", path=str(path))
    index = 0
    for batch in table.to_batches(max_chunksize=10_000):
        for rec in batch.to_pylist():
            yield RawRecord(index, None, rec)
            index += 1
