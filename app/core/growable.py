"""A 1-D array with spare capacity behind it, so appending k points costs O(k), not a copy.

Arrays handed out are views of the filled prefix; filled parts are never written again, so
views handed out earlier stay valid (and keep their old length) while the array grows.
"""

from __future__ import annotations

import numpy as np


class Growable:
    __slots__ = ("buf", "n")

    def __init__(self, buf: np.ndarray, n: int) -> None:
        self.buf, self.n = buf, n

    @staticmethod
    def extend(arr: np.ndarray, owner: Growable | None, new: np.ndarray) -> tuple[np.ndarray, Growable]:
        """(``arr`` + ``new``, its buffer): in place if ``arr`` is the whole filled part of
        ``owner`` and there is room, else in a new buffer with 50% to spare (a fresh 800 kB
        array also costs ~200 page faults, so growth is geometric)."""
        m, k = arr.shape[0], new.shape[0]
        if (owner is not None and owner.n == m and m + k <= owner.buf.shape[0]
                and np.shares_memory(arr[:1], owner.buf[:1])):
            owner.buf[m : m + k] = new
            owner.n = m + k
            return owner.buf[: m + k], owner
        buf = np.empty(m + k + max((m + k) // 2, 1024), dtype=np.result_type(arr, new))
        buf[:m] = arr
        buf[m : m + k] = new
        return buf[: m + k], Growable(buf, m + k)
