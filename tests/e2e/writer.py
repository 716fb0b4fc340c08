"""A real training-like writer for the end-to-end tests (run as a subprocess).

    python writer.py STORE FLAG_DIR

Logs run "writer-a" at ~50 Hz; when FLAG_DIR/second exists, also starts "writer-b". Logs until
killed. Each step's wall time is the value of ``t`` so the test can measure latency.
"""

import math
import sys
import time
from pathlib import Path

import tracker_sdk

store, flags = sys.argv[1], Path(sys.argv[2])
a = tracker_sdk.init(experiment="live", name="writer-a", store=store, config={"lr": 0.1})
b = None
step = 0
while True:
    a.log({"train/loss": math.exp(-step / 200) + 0.01 * math.sin(step), "t": time.time()}, step=step)
    if b is None and (flags / "second").exists():
        b = tracker_sdk.init(experiment="live", name="writer-b", store=store, config={"lr": 0.01})
    if b is not None:
        b.log({"train/loss": math.exp(-step / 400)})
    step += 1
    time.sleep(0.02)
