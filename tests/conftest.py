"""Session-wide test setup. Runs before any test module, so before any Qt import."""

import os
import tempfile

# No display (CI, containers): use Qt's offscreen platform instead of aborting on xcb.
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # must happen before QApplication exists

# Qt warns (and makes its own dir under /tmp) when XDG_RUNTIME_DIR is unset.
if "XDG_RUNTIME_DIR" not in os.environ:
    _runtime_dir = tempfile.mkdtemp(prefix="xdg-runtime-")
    os.chmod(_runtime_dir, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = _runtime_dir
