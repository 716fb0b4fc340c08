"""Skip the Qt tests entirely when PySide6 (or its Qt libraries) cannot be imported."""

try:
    import PySide6.QtWidgets  # noqa: F401
except (ImportError, OSError):  # OSError: Qt shared libraries missing on the system
    collect_ignore_glob = ["*"]
