"""The fluent API: ``init`` starts a run; ``log``/``finish``/... act on the active run."""

from __future__ import annotations

import atexit
import os
import socket
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tracker_sdk import termination
from tracker_sdk.entities import ModelVersion
from tracker_sdk.errors import RunNotFoundError, RunStateError, ValidationError
from tracker_sdk.reader import Store
from tracker_sdk.run import Run
from tracker_sdk.validation import check_name, check_params, check_tags, check_text
from tracker_sdk.writer import Writer

DEFAULT_EXPERIMENT = "Default"
DEFAULT_FLUSH_INTERVAL = 0.2

_lock = threading.RLock()
_active: list[Run] = []
_writers: dict[Path, Writer] = {}
_stores: dict[Path, Store] = {}
_exit_status = "FINISHED"
_hooks_installed = False
#: Stores and writers a forked process inherited: kept referenced, never closed there (closing a
#: parent's SQLite connection in the child may checkpoint or delete the WAL under the parent).
_inherited: list[Any] = []


def _after_fork_in_child() -> None:
    """A forked process starts its own runs with fresh connections and a writer thread of its
    own; the runs it inherited stay the parent's (logging into them here warns once, drops)."""
    global _lock
    _lock = threading.RLock()  # another thread may have held it at the fork
    _inherited.extend([*_stores.values(), *_writers.values()])
    _stores.clear()
    _writers.clear()
    for run in _active:
        run._orphan()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def init(experiment: str | None = None, name: str | None = None, config: Mapping[str, Any] | None = None,
         tags: Mapping[str, Any] | None = None, notes: str | None = None, store: str | os.PathLike[str] | Store | None = None,
         parent: Run | str | None = None, resume: str | bool | None = None, system_metrics: bool = False,
         flush_interval: float | None = None) -> Run:
    """Start (or resume) a run and make it the active run.

    Args:
        experiment: groups runs (created on first use); default "Default".
        name: a readable name; default a random one like "bright-owl-42".
        config: hyperparameters; nested dicts flatten to dotted keys (``model.depth``).
        tags: mutable labels. notes: free text (Markdown).
        store: a store folder or ``Store``; default ``$RUNWATCH_HOME`` else ``./runwatch``.
        parent: the parent run (or its id), e.g. for the trials of a sweep.
        resume: a run id to continue (its steps carry on), or True to continue the latest
            run of this name in this experiment when there is one.
        system_metrics: also log CPU/RAM/GPU usage as ``sys/*`` series.
        flush_interval: seconds between background writes (default 0.2).

    Example::

        with tracker_sdk.init(experiment="mnist", config={"lr": 3e-4}) as run:
            for step in range(1000):
                run.log({"train/loss": loss}, step=step)
    """
    from tracker_sdk.store import writes

    st = store if isinstance(store, Store) else _store_for(store)
    experiment = check_name(experiment or DEFAULT_EXPERIMENT)
    flat_config = check_params(config or {})
    tag_values = check_tags(tags or {})
    if notes:
        check_text(notes, "the note")
    parent_id = _parent_id(st, parent)
    writer = _writer_for(st, flush_interval)
    if flush_interval is not None:
        writer.flush_interval = flush_interval
    resumed = _find_resume(st, resume, experiment, name)
    host, pid = socket.gethostname(), os.getpid()
    if resumed is not None:
        with st._write() as conn:
            writes.reopen_run(conn, resumed.id, host, pid)
        run_id, run_name = resumed.id, resumed.name
        params = dict(resumed.params)
        next_step = max((m.last_step for m in resumed.metrics.values()), default=-1) + 1
    else:
        from tracker_sdk.names import random_name

        run_id = uuid.uuid4().hex  # lowercase hex: safe in case-insensitive IN lists too
        run_name = check_name(name) if name else random_name()
        params, next_step = {}, 0
        base_env = {"user": _user(), "host": host, "pid": pid, "python": sys.version.split()[0],
                    "command": " ".join([sys.executable, *sys.argv])}
        with st._write() as conn:
            writes.create_run(conn, run_id=run_id, experiment=experiment, name=run_name,
                              start_time=int(time.time() * 1000), host=host, pid=pid, user=base_env["user"],
                              parent_id=parent_id, environment=base_env, note=notes or "")
    run = Run(store=st, writer=writer, state=writer.register(run_id, resumed is not None, run_name),
              run_id=run_id, name=run_name, experiment=experiment, params=params, next_step=next_step,
              parent_id=parent_id)
    if flat_config:
        run.log_params(flat_config)
    if tag_values:
        run.set_tags(tag_values)
    if notes and resumed is not None:
        run.set_note(notes)
    if resumed is None:
        run._capture = threading.Thread(target=_capture_environment, args=(run,), daemon=True,
                                        name="runwatch-env")
        run._capture.start()
    if system_metrics:
        _start_system_metrics(run)
    with _lock:
        _active.append(run)
        _install_exit_hooks()
    return run


def active_run() -> Run | None:
    """The most recently started run that has not finished, or None."""
    with _lock:
        return _active[-1] if _active else None


def _require_run() -> Run:
    run = active_run()
    if run is None:
        raise RunStateError("no active run: call tracker_sdk.init() before logging")
    return run


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """``active_run().log(data, step)``."""
    _require_run().log(data, step)


def log_params(params: Mapping[str, Any]) -> None:
    _require_run().log_params(params)


def set_tags(tags: Mapping[str, Any]) -> None:
    _require_run().set_tags(tags)


def log_artifact(path: str | os.PathLike[str], artifact_path: str | None = None) -> str:
    return _require_run().log_artifact(path, artifact_path)


def register_model(model_uri: str, name: str, store: str | os.PathLike[str] | Store | None = None) -> ModelVersion:
    """Register the model at ``model_uri`` (``runs:/<run_id>/<path>`` or ``models:/...``) as the
    next version of ``name``, as ``mlflow.register_model`` does.

    ``store``: a store folder or ``Store``; default the active run's store, else the default store.
    """
    run = active_run()
    if isinstance(store, Store):
        st = store
    elif store is None and run is not None:
        st = run.store
    else:
        from tracker_sdk.store.engine import check_store_folder, resolve_store_path

        check_store_folder(resolve_store_path(store), create=False)  # a mistyped path: an error, not a new store
        st = _store_for(store)
    return st.register_model(model_uri, name)


def finish(status: str | None = None) -> bool:
    """Finish the active run (no-op when there is none); status FINISHED unless given."""
    run = active_run()
    return True if run is None else run.finish(status)


# --- internals --------------------------------------------------------------------------------

def _store_for(path: str | os.PathLike[str] | None) -> Store:
    from tracker_sdk.store.engine import resolve_store_path

    key = resolve_store_path(path)
    with _lock:
        st = _stores.get(key)
        if st is None:
            st = _stores[key] = Store(key, create=True)
        return st


def _writer_for(store: Store, flush_interval: float | None) -> Writer:
    with _lock:
        w = _writers.get(store.path)
        if w is None or not w._thread.is_alive():
            w = _writers[store.path] = Writer(store, flush_interval or DEFAULT_FLUSH_INTERVAL)
        return w


def _find_resume(st: Store, resume: str | bool | None, experiment: str, name: str | None):  # type: ignore[no-untyped-def]
    if resume is None or resume is False:
        return None
    if resume is True:
        if not name:
            raise ValidationError("resume=True needs a run name to look for; or pass resume=<run id>")
        found = st.search_runs(experiment=experiment, filter=f"attributes.name = {_quote(name)}",
                               order_by=["attributes.start_time DESC"], limit=1)
        return found[0] if found else None
    return st.get_run(str(resume))


def _parent_id(st: Store, parent: Run | str | None) -> str | None:
    """The id of an existing run of this store: a dangling parent would hide the run's place."""
    if parent is None:
        return None
    if isinstance(parent, Run):
        if parent.store.path != st.path:
            raise ValidationError(f"parent run {parent.name!r} is in another store ({parent.store.path});"
                                  f" a parent must be in the store of its children ({st.path})")
        return parent.id
    try:
        return st.get_run(str(parent)).id  # a unique prefix is enough, as everywhere else
    except RunNotFoundError as e:
        raise RunNotFoundError(f"parent run: {e}; pass the id of a run in this store, or the Run itself") from None


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return ""


def _capture_environment(run: Run) -> None:
    """Full capture (git, packages) off the caller's thread: init stays fast."""
    try:
        from tracker_sdk.sysinfo import capture_environment, git_diff

        env = capture_environment()
        run._set_environment(env)
        if env.get("git_dirty") and env.get("git_root"):
            diff = git_diff(Path(env["git_root"]))
            if diff:
                run.log_text(diff, "git/diff.patch")
    except Exception as e:  # capture is best effort: never disturb the training script
        warnings.warn(f"runwatch: could not capture the environment ({e})", RuntimeWarning, stacklevel=1)


def _start_system_metrics(run: Run) -> None:
    from tracker_sdk.sysinfo import SystemMonitor

    counter = iter(range(1 << 62))
    monitor = SystemMonitor(lambda values: run._log_system(values, next(counter)))
    monitor.start()
    run._monitor = monitor


def _forget(run: Run) -> None:
    with _lock:
        if run in _active:
            _active.remove(run)


def _finish_all(status: str) -> None:
    with _lock:
        runs = list(reversed(_active))
    for run in runs:
        try:
            run.finish(status, timeout=30.0)
        except Exception:
            pass


def _on_exit() -> None:
    termination.wait_for_helper()  # a SIGTERM is being handled: it ends the process
    _finish_all(_exit_status)
    for w in list(_writers.values()):
        w.close(timeout=30.0)


def _excepthook(exc_type, exc, tb):  # type: ignore[no-untyped-def]
    global _exit_status
    _exit_status = "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED"
    _previous_excepthook(exc_type, exc, tb)


_previous_excepthook = sys.excepthook


def _finish_on_sigterm(deadline: float) -> None:
    """On the SIGTERM helper thread: every run KILLED, everything queued written."""
    _finish_all("KILLED")
    # Also wait for what runs finished just before (their finish() may still be waiting for
    # its last write on the main thread): the process ends right after this.
    with _lock:
        writers = list(_writers.values())
    for w in writers:
        w.flush(timeout=max(0.1, deadline - time.monotonic()))


def _install_exit_hooks() -> None:
    """atexit drain + status; FAILED/KILLED on an uncaught exception; SIGTERM → KILLED.

    The SIGTERM handler is installed only when nobody else handles SIGTERM, and only from
    the main thread (Python allows signal handlers nowhere else); again in a forked process
    (a pool worker that starts its own run: ``Pool.terminate()`` then ends it KILLED).
    """
    global _hooks_installed, _previous_excepthook
    if not _hooks_installed:  # (atexit and excepthook carry over into a forked process)
        _hooks_installed = True
        atexit.register(_on_exit)
        _previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
    termination.install(_finish_on_sigterm)
