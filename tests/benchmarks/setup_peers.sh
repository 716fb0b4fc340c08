#!/usr/bin/env bash
# Create the benchmark venv (.venv-bench, gitignored) with the SDK and the MLflow peer.
# mlflow 3.17.2 is the version measured in shared/peers/RESULTS.md.
# pip may print harmless "local extra index" warnings.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${VENV:-$root/.venv-bench}"
python="${PYTHON:-python3.11}"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -e "$root" "mlflow==3.17.2"
"$venv/bin/python" -c "import mlflow, tracker_sdk; print('ok: mlflow', mlflow.__version__)"
echo "run: $venv/bin/python -m tests.benchmarks.run_all   (from $root)"
