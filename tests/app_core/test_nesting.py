"""Child runs listed under their parent, in the table's sort order."""

from __future__ import annotations

from app.core.nesting import nest


def test_children_follow_their_parent_in_sort_order():
    # Sorted newest first: the sweep's trials were started after the sweep run itself.
    ordered = ["t3", "other", "t2", "t1", "sweep"]
    parent = {"t1": "sweep", "t2": "sweep", "t3": "sweep"}
    n = nest(ordered, parent)
    assert n.order == ["other", "sweep", "t3", "t2", "t1"]
    assert [n.depth[r] for r in n.order] == [0, 0, 1, 1, 1]
    assert n.children == {"sweep": 3}


def test_grandchildren_nest_deeper():
    n = nest(["a", "b", "c", "d"], {"b": "a", "c": "b", "d": "a"})
    assert n.order == ["a", "b", "c", "d"]
    assert [n.depth[r] for r in n.order] == [0, 1, 2, 1]
    assert n.ancestors("c") == ["b", "a"]


def test_a_child_whose_parent_is_not_listed_is_top_level():
    n = nest(["t2", "t1"], {"t1": "sweep", "t2": "sweep"})  # the sweep run was filtered out
    assert n.order == ["t2", "t1"] and n.depth == {"t2": 0, "t1": 0}
    assert n.children == {} and n.ancestors("t1") == []


def test_collapsing_hides_the_whole_subtree_only():
    n = nest(["a", "b", "c", "d", "e"], {"b": "a", "c": "b", "d": "a"})
    assert n.visible({"a"}) == ["a", "e"]
    assert n.visible({"b"}) == ["a", "b", "d", "e"]
    assert n.visible({"e"}) == ["a", "b", "c", "d", "e"]  # no children: nothing to hide
    assert n.visible(set()) == n.order


def test_parent_cycles_are_broken_not_looped():
    n = nest(["a", "b", "c"], {"a": "b", "b": "a", "c": "c"})
    assert sorted(n.order) == ["a", "b", "c"] and len(n.order) == 3
    assert n.depth["a"] == 0 and n.depth["b"] == 1 and n.depth["c"] == 0
    assert n.ancestors("a") == []
