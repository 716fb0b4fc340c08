"""What a run records about where it ran: host, command, git state, packages; system metrics.

Everything here is best effort. A missing ``git``, an odd container without a passwd entry or
a broken package metadata file must never stop a training script, so every item is captured
on its own and left out when it fails. Optional modules (psutil, pynvml) are imported inside
the functions that need them so that ``import tracker_sdk`` stays cheap.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: All git calls of one capture share this budget: a hung network mount must not stall a run.
GIT_TIMEOUT_S = 3.0
#: ``git diff`` may legitimately take longer on a big repo, but not forever.
GIT_DIFF_TIMEOUT_S = 15.0
#: A diff larger than this is cut (someone edited a data file under version control).
MAX_DIFF_BYTES = 5 * 1024 * 1024
#: Untracked names listed in the diff header at most (an unignored venv has 100k files).
MAX_UNTRACKED_LISTED = 200
#: ``python -c '<a whole program>'`` would otherwise put the program into the command.
MAX_COMMAND_CHARS = 10_000

_GIB = float(1 << 30)


# --------------------------------------------------------------------------- environment


def capture_environment(cwd: Path | None = None) -> dict[str, Any]:
    """Describe the current process and its source tree as a JSON-serialisable dict.

    Keys: user, host, pid, command, script, cwd, python, python_executable, platform,
    git_commit, git_branch, git_dirty, git_remote, git_root, packages. Any key whose value
    cannot be found is absent; nothing here raises.
    """
    where = Path(cwd) if cwd is not None else None
    env: dict[str, Any] = {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("user", _user),
        ("host", socket.gethostname),
        ("pid", os.getpid),
        ("command", _command),
        ("script", _script),
        ("cwd", lambda: str((where or Path.cwd()).resolve())),
        ("python", platform.python_version),
        ("python_executable", lambda: sys.executable or None),
        ("platform", platform.platform),
    ]
    for key, get in steps:
        _put(env, key, get)
    try:
        env.update(_git_info(where or Path.cwd()))
    except Exception:  # noqa: BLE001 - git state is a nicety, never a reason to fail a run
        pass
    _put(env, "packages", installed_packages)
    return env


def _put(env: dict[str, Any], key: str, get: Callable[[], Any]) -> None:
    try:
        value = get()
    except Exception:  # noqa: BLE001 - one missing item leaves only that item out
        return
    if value is not None and value != "":
        env[key] = value


def _user() -> str:
    import getpass  # getpass falls back to the passwd database and raises without an entry

    return getpass.getuser()


def _command() -> str:
    # orig_argv is what was typed (keeps ``-m pkg``); argv alone loses the interpreter flags.
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    text = shlex.join(argv)
    if len(text) > MAX_COMMAND_CHARS:
        text = text[:MAX_COMMAND_CHARS] + " …[truncated]"
    return text


def _script() -> str | None:
    first = sys.argv[0] if sys.argv else ""
    if first and first not in ("-c", "-m") and os.path.isfile(first):
        return os.path.abspath(first)
    return None


def installed_packages() -> dict[str, str]:
    """Installed distributions as {canonical name: version}, first on sys.path wins, sorted."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name, version = _dist_name_version(dist)
        except Exception:  # noqa: BLE001 - a broken METADATA file skips that package only
            continue
        if name and version:
            found.setdefault(_canonical(name), version)  # sys.path order: what import sees
    return dict(sorted(found.items()))


_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


def _dist_name_version(dist: Any) -> tuple[str, str]:
    # Fast path: parsing every METADATA file costs ~1.5 ms a package (an email parser);
    # the ``name-version.dist-info`` folder name already carries both (PEP 427).
    folder = getattr(dist, "_path", None)
    match = _DIST_INFO.match(getattr(folder, "name", ""))
    if match:
        return match["name"], match["version"]
    return dist.metadata["Name"], dist.version


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503, so duplicates collapse


# --------------------------------------------------------------------------- git


def _git(root: Path, *args: str, timeout: float = GIT_TIMEOUT_S) -> str | None:
    """Run one git command; its stripped stdout, or None on any failure."""
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), *args],
            capture_output=True, timeout=timeout, env=_git_env(), stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace").strip()


def _git_env() -> dict[str, str]:
    # Never prompt for credentials, never page, and ignore a user's LANG for parseable output.
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}


def _git_info(cwd: Path) -> dict[str, Any]:
    deadline = time.monotonic() + GIT_TIMEOUT_S

    def git(where: Path, *args: str) -> str | None:
        left = deadline - time.monotonic()
        return _git(where, *args, timeout=left) if left > 0 else None

    root = git(cwd, "rev-parse", "--show-toplevel")
    if not root:
        return {}
    root_path = Path(root)
    info: dict[str, Any] = {"git_root": str(root_path)}
    commit = git(root_path, "rev-parse", "--verify", "-q", "HEAD")
    if commit:
        info["git_commit"] = commit
    branch = git(root_path, "symbolic-ref", "--short", "-q", "HEAD")
    if branch:  # absent when detached
        info["git_branch"] = branch
    # Only tracked changes count as dirty: untracked outputs (./runwatch, checkpoints) would
    # otherwise make every run dirty. They are still named in the diff artifact's header.
    status = git(root_path, "status", "--porcelain", "--untracked-files=no")
    if status is not None:
        info["git_dirty"] = bool(status)
    remote = git(root_path, "config", "--get", "remote.origin.url")
    if remote:
        info["git_remote"] = strip_credentials(remote)
    return info


def strip_credentials(url: str) -> str:
    """``https://user:token@host/x.git`` → ``https://host/x.git``; other forms unchanged.

    The whole user-info part goes: a bare ``https://<token>@host`` is as secret as a password.
    scp-like ``git@host:path`` has no password and names the ssh user, so it stays.
    """
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", r"\1", url.strip())


def git_diff(root: Path | str) -> str | None:
    """``git diff HEAD`` of the repo at ``root`` when it has tracked changes, else None.

    Untracked file names come first as ``#`` comment lines (their content is not included).
    Output beyond ``MAX_DIFF_BYTES`` is cut with a note saying so.
    """
    root = Path(root)
    try:
        diff, cut = _read_capped(
            ["git", "--no-optional-locks", "-C", str(root), "diff", "HEAD", "--no-color",
             "--no-ext-diff", "--no-textconv"],  # never run user-configured diff programs
            MAX_DIFF_BYTES,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if diff is None or not diff.strip():
        return None
    text = diff.decode("utf-8", "replace")
    if cut:
        text += f"\n# [runwatch] diff truncated at {MAX_DIFF_BYTES // (1024 * 1024)} MB\n"
    return _untracked_header(root) + text


def _untracked_header(root: Path) -> str:
    listing = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    names = [n for n in (listing or "").split("\0") if n]
    if not names:
        return ""
    lines = ["# Untracked files (not included in this diff):"]
    lines += [f"#   {n}" for n in names[:MAX_UNTRACKED_LISTED]]
    if len(names) > MAX_UNTRACKED_LISTED:
        lines.append(f"#   ... and {len(names) - MAX_UNTRACKED_LISTED} more")
    return "\n".join(lines) + "\n\n"


def _read_capped(cmd: list[str], cap: int) -> tuple[bytes | None, bool]:
    """stdout of ``cmd`` up to ``cap`` bytes (True if cut), None if it failed.

    Reads from a pipe rather than ``capture_output`` so a 2 GB diff never sits in memory.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=_git_env())
    killer = threading.Timer(GIT_DIFF_TIMEOUT_S, proc.kill)
    killer.start()
    try:
        assert proc.stdout is not None
        data = proc.stdout.read(cap + 1)
        cut = len(data) > cap
        if cut:
            proc.kill()
        code = proc.wait()
    finally:
        killer.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    if cut:
        return data[:cap], True
    return (data if code == 0 else None), False


# --------------------------------------------------------------------------- system metrics

_psutil_warned = False


class SystemMonitor:
    """Samples CPU, RAM, this process's RSS and NVIDIA GPUs every ``interval_s`` seconds.

    Calls ``log({"sys/cpu_percent": ..., ...})`` from a daemon thread. Without psutil it warns
    once and does nothing; without pynvml (or a GPU) the GPU keys are simply absent. Errors in
    sampling or in ``log`` are swallowed (the first is warned about): a monitor must never
    take down the training it watches.
    """

    def __init__(self, log: Callable[[dict[str, float]], None], interval_s: float = 10.0) -> None:
        if interval_s <= 0:
            raise ValueError(f"SystemMonitor interval_s must be > 0, got {interval_s!r}")
        self._log = log
        self._interval = float(interval_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned_error = False

    def start(self) -> SystemMonitor:
        if self._thread is not None and self._thread.is_alive():
            return self
        psutil = _import_psutil()
        if psutil is None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(psutil,),
                                        name="runwatch-sysmon", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sampling; returns once the thread has ended (at most ``timeout`` s)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> SystemMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, psutil: Any) -> None:
        try:
            proc = psutil.Process()
            psutil.cpu_percent(interval=None)  # primes the counter; the first call returns 0.0
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)
            return
        gpus = _Gpus()
        try:
            while not self._stop.wait(self._interval):
                try:
                    sample = _sample(psutil, proc)
                    sample.update(gpus.sample())
                    self._log(sample)
                except Exception as exc:  # noqa: BLE001 - keep sampling; warn the first time
                    self._warn(exc)
        finally:
            gpus.close()

    def _warn(self, exc: BaseException) -> None:
        if not self._warned_error:
            self._warned_error = True
            warnings.warn(f"runwatch system metrics: sampling failed ({exc!r}); "
                          "further errors are ignored", RuntimeWarning, stacklevel=2)


def _import_psutil() -> Any:
    global _psutil_warned
    try:
        import psutil
    except ImportError:
        if not _psutil_warned:
            _psutil_warned = True
            warnings.warn("runwatch: system metrics need psutil, which is not installed; "
                          "run `pip install psutil` to record sys/* metrics",
                          RuntimeWarning, stacklevel=3)
        return None
    return psutil


def _sample(psutil: Any, proc: Any) -> dict[str, float]:
    vm = psutil.virtual_memory()
    return {
        "sys/cpu_percent": float(psutil.cpu_percent(interval=None)),
        "sys/ram_used_gb": (vm.total - vm.available) / _GIB,  # what a user calls "used"
        "sys/ram_percent": float(vm.percent),
        "sys/proc_rss_gb": proc.memory_info().rss / _GIB,
    }


class _Gpus:
    """NVIDIA GPUs through pynvml, or nothing at all when it is missing or finds no driver."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception:  # noqa: BLE001 - no pynvml / no driver / no GPU: no gpu keys
            self._handles = []

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for i, handle in enumerate(self._handles):
            try:
                util = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                mem = self._nvml.nvmlDeviceGetMemoryInfo(handle)
            except Exception:  # noqa: BLE001 - one GPU failing leaves the others
                continue
            out[f"sys/gpu{i}_util_percent"] = float(util.gpu)
            out[f"sys/gpu{i}_mem_used_gb"] = mem.used / _GIB
        return out

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # noqa: BLE001
                pass
