"""Run every SDK benchmark (each in its own process) and print one summary table.

    python -m tests.benchmarks.run_all [--quick] [--only log_call,read]

Use the interpreter of ``.venv-bench`` (``tests/benchmarks/setup_peers.sh``) to get the MLflow
peer's figures; without mlflow the table simply has no peer for those rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from tests.benchmarks import _common as c
except ImportError:  # run as a file
    import _common as c  # type: ignore[no-redef]

BENCHES = ["log_call", "throughput", "read", "sigkill", "multiproc", "disk_import", "tensorboard"]
#: Not in the default run: the first run builds its MLflow database with MLflow (~30 min, cached).
OPTIONAL = ["mlflow"]


def git(*args: str) -> str:
    r = subprocess.run(["git", *args], cwd=c.ROOT, capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "?"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHES + OPTIONAL)}")
    a = p.parse_args()
    names = a.only.split(",") if a.only else BENCHES
    print(f"python {sys.version.split()[0]} at {sys.executable}; {c.load()}", flush=True)
    print(f"tree: {git('rev-parse', '--short', 'HEAD')}, uncommitted SDK files:"
          f" {git('status', '--short', '--', 'tracker_sdk').replace(chr(10), ', ') or 'none'}", flush=True)
    rows, failed, t0 = [], [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            cmd = [sys.executable, "-m", f"tests.benchmarks.bench_{name}", "--json", str(out)]
            rc = subprocess.run(cmd + (["--quick"] if a.quick else []), cwd=c.ROOT).returncode
            if rc != 0 or not out.exists():
                failed.append(name)
                continue
            rows += [c.Result(**r) for r in json.loads(out.read_text())]
    print(f"\n== summary ({time.perf_counter() - t0:.0f} s; {c.load()})")
    table = [("figure", "value", "target", "result", "peer (same run)", "ratio")]
    for r in rows:
        peer = f"{r.peer}: {c.fmt(r.peer_value)}" if r.peer else "-"
        table.append((r.figure, f"{c.fmt(r.value)} {r.unit}", f"{r.target} {r.unit}" if r.target else "-",
                      "-" if r.ok is None else ("PASS" if r.ok else "MISS"), peer,
                      f"{c.fmt(r.ratio)}x" if r.ratio is not None else "-"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for k, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print("ratio: how many times better Runwatch is than the peer (>1 = Runwatch wins).")
    for r in rows:
        if r.note:
            print(f"  {r.figure}: {r.note}")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
