"""The ``runwatch`` command: argument parsing and error handling; the work is in ``app.commands``.

Only the standard library is imported at module level so that ``runwatch --help`` is instant;
each command imports what it needs (rich, the SDK, Qt for ``ui`` only) when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

PROG = "runwatch"
STORE_HELP = "the store folder (default: $RUNWATCH_HOME, else ./runwatch); a sqlite:/// URL also works"


class _Parser(argparse.ArgumentParser):
    """Every parser takes --store, so it works before or after any sub-command
    (``runwatch --store S export runs`` = ``runwatch export --store S runs`` = ``... runs --store S``).

    Sub-parsers are made of this class too (argparse uses ``type(self)``), so no command can miss it.
    """

    def __init__(self, *args: Any, show_store_alias: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        # default=SUPPRESS: an unset --store of a sub-command must not overwrite one given before it.
        self.add_argument("--store", metavar="PATH", default=argparse.SUPPRESS, help=STORE_HELP)
        # MLflow users type --backend-store-uri out of habit; accept it everywhere, advertise it on ui.
        self.add_argument("--backend-store-uri", dest="store", metavar="URI", default=argparse.SUPPRESS,
                          help="same as --store (MLflow's spelling)" if show_store_alias else argparse.SUPPRESS)


def _deleted_options(p: argparse.ArgumentParser) -> None:
    """One meaning of --deleted for every command that selects runs: deleted runs too."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--deleted", "--all", dest="deleted", action="store_true",
                       help="include deleted runs (see runs restore, gc)")
    group.add_argument("--only-deleted", action="store_true", help="only deleted runs")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1600x1000, got {text!r}") from None
    if not (100 <= w <= 10000 and 100 <= h <= 10000):
        raise argparse.ArgumentTypeError(f"size {text!r} is out of range (100..10000 per side)")
    return w, h


def _positive(kind: type) -> object:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    return parse


def _cmd(p: argparse.ArgumentParser, target: str) -> None:
    """Name the handler as "module:function" so it is imported only when chosen."""
    p.set_defaults(func=target)


class _Formatter(argparse.HelpFormatter):
    """Aligns command help in one column: argparse forgets the sub-command names when it
    measures the widest entry, so a long one ("experiments") would push its help to a new line."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action._get_subactions():
                width = len(self._format_action_invocation(sub)) + self._current_indent + 2
                self._action_max_length = max(self._action_max_length, width)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description="Runwatch: a local-first experiment tracker. Watch training runs live.",
        epilog="Start with: runwatch demo, then runwatch ui. Help on a command: runwatch COMMAND --help.")
    parser.set_defaults(store=None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = sub.add_parser("ui", help="open the desktop app on a store", show_store_alias=True,
                       description="Open the desktop app on a store; it updates live while runs log.")
    p.add_argument("store_arg", nargs="?", metavar="STORE", help="the store folder (same as --store)")
    p.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit (for docs and CI)")
    p.add_argument("--size", type=_size, metavar="WxH", help="window size, e.g. 1600x1000")
    p.add_argument("--theme", choices=("light", "dark"), help="colour theme (default: follow the system)")
    _cmd(p, "app.cli:cmd_ui")

    p = sub.add_parser("demo", help="fill a store with a realistic demo sweep",
                       description="Write a hyperparameter sweep (12 trials under a parent run, one failing), "
                                   "two baseline runs and their artifacts; --live keeps runs logging.")
    p.add_argument("--live", type=_positive(float), metavar="SECONDS",
                   help="then keep runs logging for this long (watch them in runwatch ui)")
    p.add_argument("--live-runs", type=_positive(int), default=2, metavar="N", help="live runs (default 2)")
    p.add_argument("--runs", type=_positive(int), default=12, metavar="N", help="sweep trials (default 12)")
    p.add_argument("--steps", type=_positive(int), default=None, metavar="N", help="steps per trial (default 3000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--force", action="store_true", help="add another sweep even if the store has one")
    _cmd(p, "app.commands.demo_cmd:cmd_demo")

    _runs_parser(sub)
    _models_parser(sub)

    p = sub.add_parser("experiments", help="list experiments", description="List experiments.")
    esub = p.add_subparsers(title="commands", metavar="COMMAND")
    _cmd(p, "app.commands.runs:cmd_experiments")
    q = esub.add_parser("list", aliases=["ls"], help="list experiments with run counts")
    _cmd(q, "app.commands.runs:cmd_experiments")

    p = sub.add_parser("gc", help="permanently remove deleted runs",
                       description="Remove deleted runs for good: rows and artifact files. Asks first.")
    p.add_argument("--older-than", type=_positive(float), metavar="DAYS",
                   help="only runs deleted more than DAYS days ago")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    _cmd(p, "app.commands.maintenance:cmd_gc")

    p = sub.add_parser("export", help="export runs or a run's metric series to CSV",
                       description="Export to CSV (UTF-8). -o - or no -o writes to stdout.")
    xsub = p.add_subparsers(title="what", metavar="WHAT", required=True)
    q = xsub.add_parser("runs", help="one row per run: attributes, params.*, tags.*, metrics.*.last/min/max")
    q.add_argument("-e", "--experiment", action="append", metavar="NAME", help="only this experiment (repeatable)")
    q.add_argument("-f", "--filter", metavar="EXPR", help="filter, e.g. \"metrics.`val/loss` < 0.3\"")
    _deleted_options(q)
    q.add_argument("-o", "--output", metavar="FILE", default="-", help="CSV file (default stdout)")
    _cmd(q, "app.commands.export:cmd_export_runs")
    q = xsub.add_parser("series", help="every point of a run's metrics: key, step, value, timestamp")
    q.add_argument("run_id", metavar="RUN_ID", help="run id or unique prefix")
    q.add_argument("-k", "--key", action="append", metavar="KEY", help="only this metric (repeatable)")
    q.add_argument("-o", "--output", metavar="FILE", default="-", help="CSV file (default stdout)")
    _cmd(q, "app.commands.export:cmd_export_series")

    p = sub.add_parser("import", help="copy an MLflow store or a TensorBoard log dir into a Runwatch store",
                       description="Copy another tool's store into the Runwatch store --store (created when "
                                   "missing): runs, params, tags, notes, every point, artifacts. Running it "
                                   "again adds only what is new. The source is only read.")
    isub = p.add_subparsers(title="from", metavar="FORMAT", required=True)
    for kind, what in (("mlflow", "an MLflow tracking database (sqlite:///mlflow.db, mlflow.db) or mlruns folder"),
                       ("tensorboard", "a TensorBoard log dir (one run per folder of event files)")):
        q = isub.add_parser(kind, help=f"from {what}")
        q.add_argument("source", metavar="SOURCE", help=what)
        q.set_defaults(kind=kind)
        _cmd(q, "app.commands.import_cmd:cmd_import")

    p = sub.add_parser("doctor", help="check a store: schema, sizes, integrity",
                       description="Print the store's path, schema, counts and sizes, check its integrity, "
                                   "and suggest a fix for each problem found.")
    _cmd(p, "app.commands.maintenance:cmd_doctor")
    return parser


def _runs_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list, show, delete, restore, rename and tag runs",
                       description="Work with runs. Without a sub-command: runs list.")
    rsub = p.add_subparsers(title="commands", metavar="COMMAND")
    p.set_defaults(func="app.commands.runs:cmd_list", experiment=None, filter=None, order_by=None,
                   deleted=False, only_deleted=False, limit=None, columns=None, quiet=False)

    q = rsub.add_parser("list", aliases=["ls"], help="a table of runs",
                        description="A table of runs, newest first, children under their parent run.")
    q.add_argument("-e", "--experiment", action="append", metavar="NAME", help="only this experiment (repeatable)")
    q.add_argument("-f", "--filter", metavar="EXPR",
                   help="MLflow-style filter, e.g. \"metrics.`val/loss` < 0.3 and params.optimizer.name = 'adam'\"")
    q.add_argument("--order-by", action="append", metavar="KEY",
                   help="e.g. \"metrics.`val/loss` ASC\" (repeatable; default: newest first)")
    _deleted_options(q)
    q.add_argument("-n", "--limit", type=_positive(int), metavar="N", help="at most N runs")
    q.add_argument("-c", "--columns", action="append", metavar="COLS",
                   help="comma-separated: id,name,experiment,status,start,end,duration,user,host,git,parent,"
                        "params.KEY,tags.KEY,metrics.KEY[.min|.max|.step|.count]")
    q.add_argument("-q", "--quiet", action="store_true", help="print only run ids (for scripts)")
    _cmd(q, "app.commands.runs:cmd_list")

    q = rsub.add_parser("show", help="everything about one run", description="Overview, params, metrics, "
                        "tags, note, environment and artifacts of one run.")
    q.add_argument("run_id", metavar="RUN_ID", help="run id or unique prefix")
    _cmd(q, "app.commands.runs:cmd_show")

    for name, aliases, verb in (("delete", ["rm"], "hide runs (soft delete; undo with restore, purge with gc)"),
                                ("restore", [], "bring deleted runs back")):
        q = rsub.add_parser(name, aliases=aliases, help=verb, description=verb[0].upper() + verb[1:] + ".")
        q.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="run ids or unique prefixes")
        _cmd(q, f"app.commands.runs:cmd_{name}")

    q = rsub.add_parser("rename", help="give a run another name", description="Rename a run.")
    q.add_argument("run_id", metavar="RUN_ID")
    q.add_argument("name", metavar="NAME")
    _cmd(q, "app.commands.runs:cmd_rename")

    q = rsub.add_parser("tag", help="set or remove tags", description="Set tags (key=value) and remove tags.")
    q.add_argument("run_id", metavar="RUN_ID")
    q.add_argument("pairs", nargs="*", metavar="KEY=VALUE")
    q.add_argument("--remove", action="append", default=[], metavar="KEY", help="remove this tag (repeatable)")
    _cmd(q, "app.commands.runs:cmd_tag")

    q = rsub.add_parser("note", help="set a run's note (Markdown)", description="Replace a run's note.")
    q.add_argument("run_id", metavar="RUN_ID")
    q.add_argument("text", metavar="TEXT", help="the note; - reads it from stdin; '' clears it")
    _cmd(q, "app.commands.runs:cmd_note")


def _models_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="the model registry: list, register, alias, stage, delete",
                       description="Registered models and their versions. Without a sub-command: models list. "
                                   "A model URI is runs:/RUN_ID/PATH, models:/NAME/VERSION, models:/NAME@ALIAS, "
                                   "models:/NAME/STAGE or models:/NAME/latest.")
    msub = p.add_subparsers(title="commands", metavar="COMMAND")
    _cmd(p, "app.commands.models:cmd_list")

    q = msub.add_parser("list", aliases=["ls"], help="models with their latest version, aliases, description")
    _cmd(q, "app.commands.models:cmd_list")

    q = msub.add_parser("show", help="a model's versions", description="A model's versions: stage, aliases, "
                        "status, source run, creation time, description and tags.")
    q.add_argument("name", metavar="NAME")
    _cmd(q, "app.commands.models:cmd_show")

    q = msub.add_parser("register", help="register a run's model as a new version",
                        description="Register MODEL_URI as the next version of NAME (created when missing), "
                                    "e.g. runwatch models register runs:/RUN_ID/model taxi.")
    q.add_argument("uri", metavar="MODEL_URI", help="runs:/RUN_ID/PATH (an id prefix works), or models:/...")
    q.add_argument("name", metavar="NAME")
    q.add_argument("-d", "--description", default="", metavar="TEXT", help="the version's description")
    _cmd(q, "app.commands.models:cmd_register")

    q = msub.add_parser("alias", help="point an alias at a version (or --delete it)",
                        description="Point ALIAS (e.g. champion) at VERSION, moving it from another version; "
                                    "--delete removes it. Use it as models:/NAME@ALIAS.")
    q.add_argument("name", metavar="NAME")
    q.add_argument("alias", metavar="ALIAS")
    q.add_argument("version", nargs="?", metavar="VERSION", help="the version number (not with --delete)")
    q.add_argument("--delete", action="store_true", help="remove the alias")
    _cmd(q, "app.commands.models:cmd_alias")

    q = msub.add_parser("stage", help="move a version to None, Staging, Production or Archived",
                        description="Move VERSION to STAGE (None, Staging, Production, Archived; any case).")
    q.add_argument("name", metavar="NAME")
    q.add_argument("version", metavar="VERSION")
    q.add_argument("stage", metavar="STAGE")
    q.add_argument("--archive-existing", action="store_true",
                   help="move the other versions in STAGE (Staging or Production) to Archived")
    _cmd(q, "app.commands.models:cmd_stage")

    q = msub.add_parser("delete", aliases=["rm"], help="remove a model, or one of its versions",
                        description="Remove a registered model (every version, tag and alias), or one VERSION "
                                    "of it. Asks first. The runs and their files stay.")
    q.add_argument("name", metavar="NAME")
    q.add_argument("version", nargs="?", metavar="VERSION", help="only this version")
    q.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    _cmd(q, "app.commands.models:cmd_delete")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("runwatch")
    except Exception:  # running from a source tree that was never installed
        return "dev"


# --- ui -----------------------------------------------------------------------------------------

def cmd_ui(args: argparse.Namespace) -> int:
    from app.commands.common import CommandError, default_store_text

    if args.store_arg and args.store and args.store_arg != args.store:
        raise CommandError(f"two stores given ({args.store_arg} and --store {args.store}); give one")
    store = args.store_arg or args.store
    if store is None:
        # As `mlflow ui` opens ./mlruns: $RUNWATCH_HOME or ./runwatch when there is a store there;
        # otherwise None lets the app reopen the last store or show its welcome page.
        default = default_store_text()
        if os.environ.get("RUNWATCH_HOME") or os.path.exists(os.path.join(default, "runwatch.db")):
            store = default
    if (sys.platform.startswith("linux") and not args.screenshot and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort the process with a multi-line plugin dump; say it in one line instead.
        raise CommandError("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset); run it in "
                           "a desktop session, or use --screenshot PNG to render without one")
    try:
        from app.qt.main import run_ui

        result = run_ui(store, screenshot=args.screenshot, size=args.size, theme=args.theme)
    except ImportError as e:
        raise _qt_import_error(e) from e
    return int(result or 0)


_QT_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph", "superqt", "watchdog", "psygnal")


def _qt_import_error(e: ImportError) -> Exception:
    """A missing GUI dependency becomes one clear line; any other import error is a bug: re-raise."""
    from app.commands.common import CommandError

    name = getattr(e, "name", None) or ""
    top = name.split(".")[0]
    if isinstance(e, ModuleNotFoundError):
        if top in _QT_PACKAGES:
            return CommandError(f"the desktop app needs {top}, which is not installed here; "
                                f"reinstall runwatch with its dependencies (pip install runwatch) or pip install {top}")
        if name == "app.qt.main":
            return CommandError("the desktop app is not part of this install (app.qt.main is missing)")
        return e
    if "lib" in str(e) and (".so" in str(e) or "shared object" in str(e)):
        # Qt is installed but a system library (libEGL, libxkbcommon, ...) is not.
        return CommandError(f"cannot load Qt: {e}; install the missing system library "
                            "(e.g. apt-get install libegl1 libxkbcommon0 libgl1)")
    return e


# --- entry point ---------------------------------------------------------------------------------

#: An error message longer than this is cut in the middle (a filter of 20,000 characters is quoted back).
MAX_ERROR_CHARS = 600


def _error(message: str) -> None:
    from app.core.formatting import printable

    text = printable(" ".join(str(message).split())) or "unknown error"  # always one line
    if len(text) > MAX_ERROR_CHARS:
        text = f"{text[:MAX_ERROR_CHARS - 100]} … {text[-90:]}"
    if _tty(sys.stderr) and not os.environ.get("NO_COLOR"):
        sys.stderr.write(f"\x1b[31m{PROG}: error:\x1b[0m {text}\n")
    else:
        sys.stderr.write(f"{PROG}: error: {text}\n")
    sys.stderr.flush()


def _unexpected(e: Exception) -> None:
    """A bug or an unforeseen failure: one line with the way to the traceback, which is for a report."""
    if os.environ.get("RUNWATCH_DEBUG"):
        import traceback

        traceback.print_exc()
        return
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    # One line: SQLAlchemy appends the whole statement and its parameters after the first.
    _error(f"unexpected {type(e).__name__}{': ' + first if first else ''} "
           "(run with RUNWATCH_DEBUG=1 for the traceback to report)")


def _tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _os_error(e: OSError) -> str:
    if e.strerror and e.filename:
        return f"{e.filename}: {e.strerror}"
    return str(e)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version (0) and usage errors (2): return, don't exit
        return e.code if isinstance(e.code, int) else 0
    target = getattr(args, "func", None)
    if target is None:
        parser.print_help(sys.stderr)
        return 2
    from tracker_sdk.errors import TrackerError

    from app.commands.common import CommandError

    module, _, name = target.partition(":")
    try:
        func = getattr(importlib.import_module(module), name)
        return int(func(args) or 0)
    except (TrackerError, CommandError) as e:
        _error(str(e))
    except BrokenPipeError:
        # `runwatch runs list | head`: the reader left; stay quiet like other Unix tools.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the exit flush from raising
        except OSError:
            pass
    except OSError as e:
        _error(_os_error(e))
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - the last resort: never a raw traceback for a user
        _unexpected(e)
    return 1


if __name__ == "__main__":
    sys.exit(main())
