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
from tracker_sdk.validation import (
    INT_FLOAT_LIMIT,
    check_key,
    check_params,
    check_step,
    check_tags,
    check_text,
    metric_value,
)
from tracker_sdk.writer import BACKPRESSURE_WAIT_S, ENV, FINISH, M, MAX_PENDING, NOTE, PARAMS, TAGS, TOUCH

if TYPE_CHECKING:
    from tracker_sdk.reader import Store
    from tracker_sdk.writer import RunState, Writer

_STATUSES = ("FINISHED", "FAILED", "KILLED")
_INT_LO, _INT_HI = -INT_FLOAT_LIMIT, INT_FLOAT_LIMIT  # bounds made once: -x allocates a big int


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
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ValidationError(f"run.log takes a dict of metrics, got {type(data).__name__}")
        item = dict(data)  # ours: the caller may reuse its dict
        known = self._keys
        for k, v in item.items():
            if k not in known:
                check_key(k)
                known.add(k)
            tv = type(v)
            if tv is not float and (tv is not int or not _INT_LO < v < _INT_HI):
                item[k] = metric_value(k, v)  # replacing a value while iterating is allowed
        if step is None:
            step = self._step
            if step > 0x7FFF_FFFF_FFFF_FFFF:  # STEP_MAX, as a literal: cheaper than a global
                raise ValidationError("the next step would be 2**63, past the largest step; pass step= explicitly")
            self._step = step + 1
        else:
            if type(step) is not int or not -0x8000_0000_0000_0000 <= step <= 0x7FFF_FFFF_FFFF_FFFF:
                step = check_step(step)
            if step >= self._step:
                self._step = step + 1
        q = self._queue
        if len(q) > MAX_PENDING and not self._writer.wait_for_space():
            self._drop(len(item))
            return
        q.append((M, self._state, step, time.time(), item))

    def _drop(self, points: int) -> None:
        """The writer cannot write and the queue is full: drop, count, and warn once."""
        state = self._state
        state.dropped += points
        if not state.warned_full:
            state.warned_full = True
            reason = self._writer.last_error or "waiting for a lock another program holds"
            warnings.warn(
                f"runwatch: the store at {self.store.path} has taken no write for over {BACKPRESSURE_WAIT_S:g} s"
                f" ({reason}); run {self.name!r} drops what it logs beyond {MAX_PENDING:,} queued calls"
                " until the store can be written again (finish() reports how many)",
                RuntimeWarning, stacklevel=3)

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
        if not self._accepting():
            return
        if not isinstance(note, str):
            raise ValidationError(f"a note must be text, got {type(note).__name__}")
        self._queue.append((NOTE, self._state, check_text(note, "the note")))

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
                  metadata: Mapping[str, Any] | None = None, registered_model_name: str | None = None) -> str:
        """Store a model file or folder under ``models/<name>/`` with a metadata file.

        ``registered_model_name``: also register it as the next version of that model (created
        when missing), with source ``runs:/<run id>/models/<name>``.
        """
        if registered_model_name is not None:
            from tracker_sdk.model_uri import check_model_name

            check_model_name(registered_model_name)  # before the copy: a bad name leaves nothing behind
        rel = self.store.artifacts.log_model(self.id, path, name, flavor, dict(metadata or {}))
        self.set_tags({f"model.{name}": rel})
        self._stored(rel)
        if registered_model_name is not None:
            self.store.register_model(f"runs:/{self.id}/{rel}", registered_model_name, run_id=self.id)
        return rel

    # --- lifecycle ----------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> bool:
        """Block until everything logged so far (and the captured environment) is in the store."""
        if self._orphaned:
            return False
        if self._capture is not None:
            self._capture.join(timeout=5.0)
        return self._writer.flush(timeout)

    def finish(self, status: str | None = None, timeout: float | None = 60.0) -> bool:
        """End the run: stop system metrics, write everything queued and the final status.

        ``status`` is FINISHED (the default), FAILED or KILLED. A run finishes once: a later
        call only waits for the writes, and warns when it asks for another status.
        Returns True when every point reached the store. Never raises for storage trouble:
        that is warned (once) instead, so a training script always ends normally.
        """
        return self._finish(status, timeout, quiet=False)

    def _finish(self, status: str | None, timeout: float | None, quiet: bool) -> bool:
        quiet = quiet or status is None  # finish() with no status asks for no particular one
        status = "FINISHED" if status is None else str(status).upper()
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
        if not first and status != self._status and not quiet and not termination.terminating:
            warnings.warn(f"runwatch: run {self.name!r} already finished as {self._status}; finish({status!r})"
                          " is ignored (a run finishes once)", RuntimeWarning, stacklevel=3)
        from tracker_sdk import api

        api._forget(self)
        writer, state = self._writer, self._state
        ok = writer.flush(timeout)
        dropped = state.dropped + state.rejected
        if first and (not ok or writer.failures or dropped):
            problems = [f"{writer.failures} storage failure(s) (last: {writer.last_error})"] if writer.failures else []
            if dropped:
                problems.append(f"{dropped:,} dropped value{'s' if dropped != 1 else ''} (see the earlier warning)")
            outcome = "not all points were written" if not ok else (
                "every other point was written" if dropped else "all points were written")
            problems = problems or [f"writes still pending after {timeout} s"]
            warnings.warn(f"runwatch: run {self.name!r} finished with {'; '.join(problems)}; {outcome}",
                          RuntimeWarning, stacklevel=3)
        return ok and not dropped

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
        status = ("FINISHED" if exc_type is None else
                  "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED")
        # Quiet when the block already finished the run itself, with whatever status it chose.
        self._finish(status, 60.0, quiet=True)


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
