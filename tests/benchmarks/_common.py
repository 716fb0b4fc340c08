"""Small helpers shared by the SDK benchmarks (timing stats, results, child processes).

Every benchmark module has ``run(quick) -> list[Result]`` and a ``main()`` that prints its
figures; ``--json PATH`` also writes the results for ``run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
if str(ROOT) not in sys.path:  # `python tests/benchmarks/x.py` as well as `python -m ...`
    sys.path.insert(0, str(ROOT))

PEER_MISSING = "peer not installed: pip install mlflow  (or: bash tests/benchmarks/setup_peers.sh)"


@dataclass
class Result:
    figure: str
    value: float
    unit: str
    target: str = ""  # e.g. "<= 5"
    peer: str = ""  # peer name, "" when none
    peer_value: float | None = None
    ratio: float | None = None  # how many times better than the peer (> 1 = we win)
    ok: bool | None = None  # None: no target
    note: str = ""


def meets(value: float, target: str) -> bool | None:
    if not target:
        return None
    op, num = target.split()
    return value <= float(num) if op == "<=" else value >= float(num)


def result(figure: str, value: float, unit: str, target: str = "", peer: str = "",
           peer_value: float | None = None, lower_is_better: bool = True, note: str = "") -> Result:
    ratio = None
    if peer_value is not None and value and peer_value:
        ratio = peer_value / value if lower_is_better else value / peer_value
    return Result(figure, value, unit, target, peer, peer_value, ratio, meets(value, target), note)


def fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def show(results: list[Result]) -> None:
    for r in results:
        line = f"  {r.figure}: {fmt(r.value)} {r.unit}"
        if r.target:
            line += f"  (target {r.target} {r.unit}: {'PASS' if r.ok else 'MISS'})"
        if r.peer:
            line += f"  | {r.peer}: {fmt(r.peer_value)} {r.unit}"
            if r.ratio is not None:
                line += f", ratio {fmt(r.ratio)}x"
        if r.note:
            line += f"  [{r.note}]"
        print(line, flush=True)


def stats_us(ns: list[int]) -> dict[str, float]:
    s = sorted(ns)
    return {"median": s[len(s) // 2] / 1e3, "p99": s[int(len(s) * 0.99)] / 1e3,
            "mean": statistics.fmean(s) / 1e3, "max": s[-1] / 1e3}


def timer_overhead_ns(n: int = 100_000) -> float:
    """Median cost of the ``t0 = pc(); t1 = pc()`` pair itself."""
    pc = time.perf_counter_ns
    out = []
    for _ in range(n):
        t0 = pc()
        out.append(pc() - t0)
    out.sort()
    return out[n // 2]


def load() -> str:
    a, b, c = os.getloadavg()
    return f"loadavg {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} cores"


def values(n: int) -> list[float]:
    """Deterministic, distinct floats (as peers/common.py)."""
    return [1.0 / (i + 1) + 1e-9 * i for i in range(n)]


class Scratch:
    """A temporary folder removed on exit (``RUNWATCH_BENCH_KEEP=1`` keeps it)."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="rw-bench-"))
        return self.path

    def __exit__(self, *exc: object) -> None:
        if os.environ.get("RUNWATCH_BENCH_KEEP"):
            print(f"  (kept {self.path})")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


class Counter:
    """An 8-byte counter in a shared file, written by a child, read by the parent (mmap)."""

    def __init__(self, path: Path, create: bool = False) -> None:
        if create:
            path.write_bytes(b"\0" * 8)
        self._f = open(path, "r+b")
        self._m = mmap.mmap(self._f.fileno(), 8)

    def set(self, v: int) -> None:
        struct.pack_into("<q", self._m, 0, v)

    def get(self) -> int:
        return struct.unpack_from("<q", self._m, 0)[0]


def python_child(module: str, *args: str, **kw) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """``python -m tests.benchmarks.<module> args`` with the running interpreter, from the repo."""
    return subprocess.Popen([sys.executable, "-m", f"tests.benchmarks.{module}", *args], cwd=ROOT, **kw)


def wait_for_capture(run) -> None:  # type: ignore[no-untyped-def]
    """Let the one-off environment capture (git, packages) finish: measure the steady state."""
    capture = getattr(run, "_capture", None)  # private: tolerate its absence
    if capture is not None:
        capture.join()


def db_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in store.glob("runwatch.db*") if p.is_file())


def have_mlflow() -> bool:
    import importlib.util

    return importlib.util.find_spec("mlflow") is not None


def main(run, description: str) -> None:  # type: ignore[no-untyped-def]
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="smaller N, for a smoke run")
    p.add_argument("--json", help="also write the results to this file")
    a = p.parse_args()
    print(f"== {description}  ({load()})", flush=True)
    t0 = time.perf_counter()
    results = run(a.quick)
    show(results)
    print(f"  -- {time.perf_counter() - t0:.1f} s, {load()}", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps([asdict(r) for r in results]))
