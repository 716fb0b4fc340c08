"""``python -m app [STORE]``: the same as ``runwatch ui [STORE]``."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(["ui", *sys.argv[1:]]))
