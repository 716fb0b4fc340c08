"""Child runs under their parent in the runs table, as MLflow shows nested runs (Qt-free).

The table stays flat (one row per run, fast at 10,000 runs); nesting only decides the order
of the rows, each row's depth, and which rows a collapsed parent hides.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Nesting:
    """The table's runs in nested order: ``order`` lists every run (hidden ones too)."""

    order: list[str] = field(default_factory=list)
    depth: dict[str, int] = field(default_factory=dict)
    children: dict[str, int] = field(default_factory=dict)  # listed child runs per parent
    parent: dict[str, str] = field(default_factory=dict)  # only parents that are listed too

    def visible(self, collapsed: Collection[str]) -> list[str]:
        """``order`` without the descendants of collapsed runs."""
        if not collapsed:
            return list(self.order)
        out: list[str] = []
        hide_below = -1  # depth of the collapsed run whose subtree is being skipped
        for rid in self.order:
            d = self.depth[rid]
            if hide_below >= 0:
                if d > hide_below:
                    continue
                hide_below = -1
            out.append(rid)
            if rid in collapsed and self.children.get(rid):
                hide_below = d
        return out

    def ancestors(self, run_id: str) -> list[str]:
        """The listed parent, its parent, ... of ``run_id`` (nearest first)."""
        out: list[str] = []
        seen = {run_id}
        p = self.parent.get(run_id)
        while p is not None and p not in seen:
            out.append(p)
            seen.add(p)
            p = self.parent.get(p)
        return out


def nest(ordered: Sequence[str], parent_of: Mapping[str, str | None]) -> Nesting:
    """Put each run right below its parent when the parent is listed too.

    ``ordered`` is the table's sort order; siblings keep it, and so do the top-level runs
    (a run whose parent is filtered out, deleted or in another experiment is top-level).
    Parent links that form a cycle (a store edited by hand) are broken, never looped on.
    """
    listed = set(ordered)
    kids: dict[str, list[str]] = {}
    roots: list[str] = []
    parent: dict[str, str] = {}
    for rid in ordered:
        p = parent_of.get(rid)
        if p is not None and p != rid and p in listed:
            kids.setdefault(p, []).append(rid)
            parent[rid] = p
        else:
            roots.append(rid)
    result = Nesting(children={p: len(c) for p, c in kids.items()}, parent=parent)
    visited: set[str] = set()

    def walk(start: str) -> None:
        stack = [(start, 0)]
        while stack:
            rid, d = stack.pop()
            if rid in visited:
                continue
            visited.add(rid)
            result.order.append(rid)
            result.depth[rid] = d
            stack.extend((c, d + 1) for c in reversed(kids.get(rid, ())))

    for rid in roots:
        walk(rid)
    for rid in ordered:  # only runs caught in a parent cycle are left: list them at the top level
        if rid not in visited:
            result.parent.pop(rid, None)
            walk(rid)
    return result
