"""Fault injection for compressed input: decompression bombs and `.gz` files cut at any byte (issue 14.4).

Bombs are built as multi-member gzips (one compressed 1 MiB block repeated), so a 1 GB expansion costs a few
milliseconds to make. Peak memory is measured in a fresh interpreter (its VmHWM), where nothing else has
grown the heap.
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from analysis.io import LoadError, LoadOptions, load
from analysis.io.readers import EXPANSION_FLOOR

ROOT = Path(__file__).resolve().parents[2]
# Measured: 148 MiB for the 1.0 MB 'a' bomb, 348 MiB for the 3.7 MB tiny-record bomb (~110 MiB is the interpreter
# with pandas and pyarrow). Before streaming: 2,161 MiB and 15,689 MiB (the whole text gunzipped, copied, and the
# 11 M records of the second one all loaded).
RSS_BOUND_MIB = 450


def _bomb(path: Path, block: bytes, mib: int = 1024) -> Path:
    member = gzip.compress(block, compresslevel=9)
    with open(path, "wb") as fh:
        for _ in range(mib * (1 << 20) // len(block)):
            fh.write(member)
    return path


def _records_block(size: int = 90) -> bytes:
    line = (json.dumps({"text": "a" * size}) + "\n").encode()
    return line * ((1 << 20) // len(line))


def _peak(path: Path, *args: str) -> tuple[str, float]:
    """Load `path` in a fresh interpreter: (its last output line, peak RSS in MiB)."""
    code = ("import resource, sys\n"
            "from analysis.io import LoadError, LoadOptions, load\n"
            "try:\n"
            "    ds = load(sys.argv[1], LoadOptions(skip_bad_lines=True))\n"
            "    print('loaded', len(ds))\n"
            "except LoadError as exc:\n"
            "    print('error:', exc)\n"
            "try:  # this image's own high-water mark: ru_maxrss keeps the forking parent's (pytest's) peak\n"
            "    hwm = next(ln for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))\n"
            "    print(int(hwm.split()[1]) / 1024)\n"
            "except OSError:\n"
            "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path), *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    return out[-2], float(out[-1])


@pytest.mark.parametrize("kind", ["one_line", pytest.param("tiny_records", marks=pytest.mark.slow)])
def test_a_1gb_bomb_is_refused_within_bounded_memory(tmp_path: Path, kind: str) -> None:
    block = b"a" * (1 << 20) if kind == "one_line" else _records_block()
    path = _bomb(tmp_path / f"{kind}.jsonl.gz", block)
    assert path.stat().st_size < 4 << 20  # ~1 MB ('a') / ~3.6 MB (records) that expand to 1 GiB
    line, peak = _peak(path)
    assert line.startswith(f"error: {path}: the gzip file expands ")
    assert "over the 100x expansion limit (a decompression bomb?); if the data really is that repetitive, raise the " \
           "limit (--max-expansion)" in line
    assert peak < RSS_BOUND_MIB, f"peak RSS {peak:.0f} MiB"


def test_the_expansion_limit_is_configurable(tmp_path: Path) -> None:
    block = _records_block(4000)
    path = _bomb(tmp_path / "rep.jsonl.gz", block, mib=40)  # 40 MiB of 4 kB records, ~290x
    with pytest.raises(LoadError, match="over the 100x expansion limit"):
        load(path)
    ds = load(path, LoadOptions(max_expansion=1000))
    assert len(ds) == 40 * len(block.splitlines())
    with pytest.raises(LoadError, match="max_expansion must be a number >= 1"):
        LoadOptions(max_expansion=0.5)
    assert "max_expansion" not in LoadOptions().to_dict()  # the default leaves old workspace fingerprints alone
    assert LoadOptions.from_dict(LoadOptions(max_expansion=1000).to_dict()).max_expansion == 1000


def test_a_small_highly_compressible_file_is_not_a_bomb(tmp_path: Path) -> None:
    """Under the 32 MiB floor any ratio is fine: small repetitive files load."""
    block = _records_block(4000)
    path = _bomb(tmp_path / "small.jsonl.gz", block, mib=EXPANSION_FLOOR >> 21)
    assert path.stat().st_size * 200 < EXPANSION_FLOOR >> 1
    assert len(load(path)) == (EXPANSION_FLOOR >> 21) * len(block.splitlines())


def test_the_cli_refuses_a_bomb_with_exit_2(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "b.json.gz", b"[" + b" " * ((1 << 20) - 1))
    r = subprocess.run([sys.executable, "-m", "analysis.cli", "info", str(path)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"sift info: error: {path}: the gzip file expands ")


def _lines(n: int) -> list[str]:
    return [json.dumps({"instruction": f"question {i} " + "x" * (i % 50), "input": "", "output": f"answer {i}"})
            for i in range(n)]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_a_gz_cut_at_any_byte_keeps_exactly_its_complete_records(tmp_path: Path, fmt: str) -> None:
    """Cut a gzip at 12 random points: strict loading is a located error; skipping keeps every record whose text
    was fully gunzipped before the cut, never a partial one, in order."""
    lines = _lines(3000)
    if fmt == "jsonl":
        text = "".join(ln + "\n" for ln in lines)
    elif fmt == "json":
        text = "[\n" + ",\n".join(lines) + "\n]\n"
    else:
        text = "instruction,input,output\n" + "".join(f"question {i} {'x' * (i % 50)},,answer {i}\n"
                                                      for i in range(3000))
    whole = gzip.compress(text.encode(), compresslevel=6)
    rng = random.Random(14)
    for cut in sorted(rng.sample(range(len(whole) // 8, len(whole) - 16), 12)):
        path = tmp_path / f"cut{cut}.{fmt}.gz"
        path.write_bytes(whole[:cut])
        prefix = zlib.decompressobj(31).decompress(whole[:cut]).decode("utf-8", "ignore")
        with pytest.raises(LoadError) as err:
            load(path)
        assert str(err.value).startswith(f"{path}, ")
        assert "the compressed file is cut short here" in str(err.value)
        ds = load(path, LoadOptions(skip_bad_lines=True))
        complete = prefix.count("\n") - (1 if fmt != "jsonl" else 0)  # the `[` / header line holds no record
        n = len(ds)
        assert complete - 1 <= n <= complete, (cut, n, complete)  # a JSON record may end right before its ','
        assert ds.rows["response"].tolist() == [f"answer {i}" for i in range(n)]
        assert len(ds.info.skipped) == 1 and "cut short" in ds.info.skipped[0].error


def test_a_broken_gzip_header_is_still_a_whole_file_error(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(LoadError, match="cannot read file"):
        load(path, LoadOptions(skip_bad_lines=True))
