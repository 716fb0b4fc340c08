"""``Run``: the live handle a training script logs through."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker_sdk import termination
from tracker_sdk.errors import ParamConflictError, RunStateError, ValidationError
from tracker_sdk.validation import check_key, check_metric_value, check_params, check_tags
from tracker_sdk.writer import ENV, FINISH, M, MAX_PENDING, NOTE, PARAMS, TAGS, TOUCH

if TYPE_CHECKING:
    from tracker_sdk.reader import Store
    from tracker_sdk.writer import RunState, Writer

_STATUSES = ("FINISHED", "FAILED", "KILLED")


class Run:
    """A run being recorded. Use it as a context manager, or call :meth:`finish`.

    ``log`` only validates and enqueues (a few µs); a background thread writes batches to the
    store every ``flush_interval`` seconds and at finish/exit/SIGTERM/Ctrl-C.
    """

    def __init__(self, *, store: Store, writer: Writer, state: RunState, run_id: str, name: str,
                 experiment: str, params: Mapping[str, str], next_step: int = 0,
                 parent_id: str | None = None) -> None:
        self.id = run_id
        self.name = name
        self.experiment = experiment
        self.parent_id = parent_id
        self.store = store
        self._writer = writer
        self._state = state
        self._queue = writer.queue
        self._params: dict[str, str] = dict(params)
        self._keys: set[str] = set()
        self._step = next_step
        self._finished = False
        self._status: str | None = None
        self._monitor: Any = None
        self._capture: threading.Thread | None = None
        self._finish_lock = threading.RLock()
        self._orphaned = False  # inherited by a forked process: see _orphan()

    def __repr__(self) -> str:
        return f"<Run {self.name!r} id={self.id} experiment={self.experiment!r}>"

    @property
    def params(self) -> Mapping[str, str]:
        """Params logged so far (flattened, as stored)."""
        return dict(self._params)

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def artifact_dir(self) -> Path:
        return self.store.artifacts_root / self.id

    # --- the hot path -------------------------------------------------------------------------
    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Record metric values at a step (default: one more than the previous step).

        Args:
            data: ``{"train/loss": 0.31, "train/acc": 0.9}``; numbers, NumPy scalars or 0-d tensors.
            step: an int; several values at one step are all kept.
        """
        if self._finished and not self._accepting():
            return
        if type(data) is not dict:
            if not isinstance(data, Mapping):
                raise ValidationError(f"run.log takes a dict of metrics, got {type(data).__name__}")
            data = dict(data)
        known = self._keys
        for k, v in data.items():
            if k not in known:
                check_key(k)
                known.add(k)
            tv = type(v)
            if tv is not float and tv is not int:
                check_metric_value(k, v)
        if step is None:
            step = self._step
            self._step = step + 1
        else:
            if type(step) is not int:
                step = _as_step(step)
            if step >= self._step:
                self._step = step + 1
        q = self._queue
        if len(q) > MAX_PENDING:
            self._writer.wait_for_space()
        q.append((M, self._state, step, time.time(), dict(data)))

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """MLflow-style single value; same as ``log({key: value}, step)``."""
        self.log({key: value}, step)

    def _log_system(self, data: dict[str, float], step: int) -> None:
        """System metrics: their own steps, leaving the training step counter alone."""
        if not self._finished:
            self._queue.append((M, self._state, step, time.time(), data))

    # --- params, tags, note -------------------------------------------------------------------
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters (nested dicts flatten to dotted keys). Params are immutable."""
        if not self._accepting():
            return
        flat = check_params(params)
        new = {}
        for k, v in flat.items():
            old = self._params.get(k)
            if old is None:
                new[k] = v
            elif old != v:
                raise ParamConflictError(
                    f"param {k!r} is already {old!r} in run {self.name!r}; params cannot change"
                    f" (got {v!r}). Log it under another key, or use a tag for values that change")
        if new:
            self._params.update(new)
            self._queue.append((PARAMS, self._state, new))

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (they may be overwritten later, unlike params)."""
        if not self._accepting():
            return
        self._queue.append((TAGS, self._state, check_tags(tags)))

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_note(self, note: str) -> None:
        """A free-text note (Markdown) shown with the run."""
        if not isinstance(note, str):
            raise ValidationError(f"a note must be text, got {type(note).__name__}")
        self._queue.append((NOTE, self._state, note))

    def _set_environment(self, env: Mapping[str, Any]) -> None:
        self._queue.append((ENV, self._state, dict(env)))

    # --- artifacts ----------------------------------------------------------------------------
    def _stored(self, rel: str) -> str:
        self._queue.append((TOUCH, self._state))
        return rel

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> str:
        """Copy a file or folder into the run's artifacts (under ``artifact_path``)."""
        return self._stored(self.store.artifacts.log_path(self.id, path, artifact_path))

    def log_text(self, text: str, path: str) -> str:
        """Save text as an artifact, e.g. ``run.log_text(report, "eval/report.md")``."""
        return self._stored(self.store.artifacts.write_text(self.id, path, text))

    def log_dict(self, obj: Mapping[str, Any] | list[Any], path: str) -> str:
        """Save a dict as JSON or YAML, chosen by the extension of ``path``."""
        from tracker_sdk.artifacts import dump_dict

        return self._stored(self.store.artifacts.write_bytes(self.id, path, dump_dict(obj, path)))

    def log_figure(self, figure: Any, path: str) -> str:
        """Save a matplotlib figure (format from the extension, e.g. .png, .svg, .pdf)."""
        from tracker_sdk.artifacts import figure_to_bytes

        if "." not in path.rsplit("/", 1)[-1]:
            path = f"{path}.png"
        return self._stored(self.store.artifacts.write_bytes(self.id, path, figure_to_bytes(figure, path)))

    def log_image(self, image: Any, path: str) -> str:
        """Save a NumPy array (HxW, HxWx3, HxWx4) or PIL image as PNG."""
        from tracker_sdk.artifacts import image_to_png

        if not path.lower().endswith(".png"):
            path = f"{path}.png"
        return self._stored(self.store.artifacts.write_bytes(self.id, path, image_to_png(image)))

    def log_model(self, path: str | Path, name: str = "model", flavor: str = "files",
                  metadata: Mapping[str, Any] | None = None) -> str:
        """Store a model file or folder under ``models/<name>/`` with a metadata file."""
        rel = self.store.artifacts.log_model(self.id, path, name, flavor, dict(metadata or {}))
        self.set_tags({f"model.{name}": rel})
        return self._stored(rel)

    # --- lifecycle ----------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything logged so far (and the captured environment) is in the store."""
        if self._orphaned:
            return False
        if self._capture is not None:
            self._capture.join(timeout=5.0)
        return self._writer.flush(timeout)

    def finish(self, status: str = "FINISHED", timeout: float | None = 60.0) -> bool:
        """End the run: stop system metrics, write everything queued and the final status.

        Returns True when every point reached the store. Never raises for storage trouble:
        that is warned (once) instead, so a training script always ends normally.
        """
        status = str(status).upper()
        if status not in _STATUSES:
            raise ValidationError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
        if self._orphaned:  # the parent process finishes it, not this forked one
            self._finished = True
            return False
        # The SIGTERM helper thread calls finish() too, possibly while the main thread is in
        # here (waiting for the environment capture or for the last write): the lock makes
        # them take turns, and the second call still waits for the writer before returning,
        # since the process ends right after.
        with self._finish_lock:
            first = not self._finished
            if first:
                if self._monitor is not None:
                    self._monitor.stop()
                if self._capture is not None:
                    self._capture.join(timeout=5.0)
                self._status = status
                self._queue.append((FINISH, self._state, status, int(time.time() * 1000)))
                self._finished = True
        from tracker_sdk import api

        api._forget(self)
        ok = self._writer.flush(timeout)
        if first and (not ok or self._writer.failures):
            warnings.warn(
                f"runwatch: run {self.name!r} finished with {self._writer.failures} storage failure(s)"
                f" ({self._writer.last_error}); {'all' if ok else 'not all'} points were written",
                RuntimeWarning, stacklevel=2)
        return ok

    def _orphan(self) -> None:
        """In a process forked after init(): the writer thread did not survive the fork and
        the store's connections belong to the parent, so nothing logged here can be written.
        Logging goes on without error (a DataLoader worker must not crash) and warns once."""
        self._orphaned = True
        self._queue = _ForkedSink(self.name)

    def _accepting(self) -> bool:
        """True while the run takes data. After finish() it refuses loudly, except when a
        SIGTERM finished it: the loop may log on until the process ends, and that is dropped."""
        if not self._finished:
            return True
        if termination.terminating:
            return False
        raise RunStateError(f"run {self.name!r} has finished; start another with tracker_sdk.init()")

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if exc_type is None:
            self.finish("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("KILLED")
        else:
            self.finish("FAILED")


def _as_step(step: Any) -> int:
    try:
        as_int = int(step)
    except (TypeError, ValueError):
        raise ValidationError(f"step must be an int, got {type(step).__name__} {step!r}") from None
    if as_int != step:
        raise ValidationError(f"step must be a whole number, got {step!r}")
    return as_int


class _ForkedSink:
    """The queue of a run inherited through fork(): drops what is logged, warning once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.warned = False

    def __len__(self) -> int:
        return 0

    def append(self, _item: object) -> None:
        if not self.warned:
            self.warned = True
            warnings.warn(
                f"runwatch: run {self.name!r} was started before this process was forked; what this "
                "process logs into it is not written. Start a run in this process instead, e.g. "
                "tracker_sdk.init(parent=<the run's id>)", RuntimeWarning, stacklevel=3)
