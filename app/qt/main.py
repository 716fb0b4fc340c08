"""Start the desktop app: ``runwatch ui [STORE]`` and ``python -m app [STORE]``."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

#: Give up waiting for a --screenshot to settle after this long and write what is shown.
SCREENSHOT_TIMEOUT_MS = 30_000
#: While Qt's event loop runs, Python runs signal handlers only when some Python code runs;
#: a timer this often makes Ctrl-C take effect at once.
SIGNAL_POLL_MS = 200
#: The exit status after Ctrl-C, as a shell reports a program stopped by SIGINT.
SIGINT_EXIT = 130


def run_ui(store: str | os.PathLike[str] | None = None, *, screenshot: str | None = None,
           size: tuple[int, int] | None = None, theme: str | None = None) -> int:
    """Open the main window on ``store`` (default: the last store, else the welcome page).

    With ``screenshot``, the window opens at ``size``, waits until the data is loaded and drawn,
    writes the PNG and exits (works headless with QT_QPA_PLATFORM=offscreen).
    """
    if screenshot and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.qt.main_window import MainWindow
    from app.qt.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Runwatch")
    app.setOrganizationName("Runwatch")
    app.setDesktopFileName("runwatch")
    if screenshot:
        # A screenshot must not depend on (or change) the user's remembered layout.
        settings = QSettings(str(Path(os.environ.get("XDG_RUNTIME_DIR", "/tmp")) / "runwatch-shot.ini"),
                             QSettings.Format.IniFormat)
        settings.clear()
    else:
        settings = QSettings()
    chosen = theme or str(settings.value("ui/theme", "light"))
    apply_theme(app, "dark" if chosen == "dark" else "light")
    window = MainWindow(settings)
    if size:
        window.resize(*size)
    elif not settings.value("window/geometry"):
        window.resize(1440, 900)
    window.show()
    previous_sigint = _quit_on_ctrl_c(app, window)
    target = store if store is not None else (None if screenshot else settings.value("store/last"))
    if target:
        window.open_store(str(target))
    if screenshot:
        out = Path(screenshot)

        def shoot() -> None:
            app.processEvents()
            out.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(out))
            print(f"screenshot {'written to' if ok else 'FAILED:'} {out}")
            window.close()
            app.exit(0 if ok else 1)

        # Let the last redraw timers fire before grabbing.
        window.controller.sig_settled.connect(lambda: QTimer.singleShot(600, shoot))
        window.session.sig_error.connect(lambda _m: QTimer.singleShot(300, shoot))
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, shoot)
        if not target:
            QTimer.singleShot(500, shoot)
    try:
        return app.exec()
    finally:
        signal.signal(signal.SIGINT, previous_sigint)


def _quit_on_ctrl_c(app: Any, window: Any) -> Any:
    """Ctrl-C in the terminal closes the window the normal way (state saved, an unsaved note
    asked about) instead of raising KeyboardInterrupt inside a Qt callback. A second Ctrl-C
    while that close is pending stops the process at once. Returns the handler it replaced."""
    from PySide6.QtCore import QTimer

    def close() -> None:
        if window.close():
            app.exit(SIGINT_EXIT)
        else:  # the user kept the window (an unsaved note): Ctrl-C closes it again next time
            signal.signal(signal.SIGINT, on_sigint)

    def on_sigint(_signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        QTimer.singleShot(0, close)  # leave the signal handler before touching widgets

    previous = signal.signal(signal.SIGINT, on_sigint)
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    return previous
