"""The exceptions the SDK raises. Every message names the problem and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


class TrackerError(Exception):
    """Base class of every error raised by ``tracker_sdk``."""


class RunStateError(TrackerError):
    """No active run, or a call on a run that has already finished."""


class ValidationError(TrackerError, ValueError):
    """A key, value or name that the store cannot accept (too long, wrong type, ...)."""


class ParamConflictError(ValidationError):
    """A parameter was logged again with a different value; params are immutable per run."""


class FilterSyntaxError(TrackerError, ValueError):
    """A filter or order-by expression that does not parse.

    ``position`` is the 0-based character offset of the problem in ``text`` so that a UI can
    underline it.
    """

    def __init__(self, message: str, position: int, text: str = "") -> None:
        self.message = message
        self.position = position
        self.text = text
        super().__init__(f"{message} (at position {position})" if text == "" else
                         f"{message} at position {position}: {_around(text, position)}")


#: Characters of a filter quoted on each side of an error's position: a 2,000-term filter
#: would otherwise fill the screen with the message.
QUOTE_CONTEXT = 40


def _around(text: str, position: int) -> str:
    before, after = text[:position], text[position:]
    if len(before) > QUOTE_CONTEXT:
        before = "…" + before[-QUOTE_CONTEXT:]
    if len(after) > QUOTE_CONTEXT:
        after = after[:QUOTE_CONTEXT] + "…"
    return f"{before}⟨here⟩{after}"


class StoreError(TrackerError):
    """The store cannot be opened or written (missing, not a store, locked, read-only, ...)."""


class CorruptDataError(StoreError):
    """The store's database file was damaged after it was written (a checksum fails, or SQLite
    reports it malformed). ``db_path`` is the damaged file."""

    def __init__(self, message: str, db_path: Path | None = None) -> None:
        self.db_path = db_path
        super().__init__(message)


class StoreNotFoundError(StoreError):
    """There is no store at the given path."""


class SchemaVersionError(StoreError):
    """The store was written by a newer Runwatch than this one."""

    def __init__(self, message: str, found: str | None = None, expected: str | None = None) -> None:
        self.found = found
        self.expected = expected
        super().__init__(message)


class RunNotFoundError(TrackerError, KeyError):
    """No run with that id (or id prefix) in the store."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the plain sentence
        return str(self.args[0]) if self.args else "run not found"


class ArtifactPathError(ValidationError):
    """An artifact path that would escape the run's artifact folder."""


class ArtifactWriteError(StoreError, OSError):
    """An artifact could not be written (disk full, read-only, no permission...).

    Nothing half-written is left behind. Also an ``OSError`` carrying the cause's ``errno``, so
    that code catching ``OSError`` around file writes keeps working.
    """


class ModelNotFoundError(TrackerError, KeyError):
    """No registered model, version, alias or stage by that name; the message lists what exists."""

    def __str__(self) -> str:  # KeyError quotes its message; we want the plain sentence
        return str(self.args[0]) if self.args else "model not found"


class ModelExistsError(ValidationError):
    """A registered model of that name already exists (``create_model``)."""
