"""RunDetailView on a real store written through the SDK: what it shows, what it emits."""

from __future__ import annotations

import math
import platform

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt

import tracker_sdk
from app.qt.detail_common import fmt_number, human_duration, human_size
from app.qt.run_detail import RunDetailView, git_text


@pytest.fixture(scope="module")
def store_runs(tmp_path_factory):
    path = tmp_path_factory.mktemp("detail") / "s"
    parent = tracker_sdk.init(store=path, experiment="sweep", name="sweep-root")
    parent.finish()
    run = tracker_sdk.init(store=path, experiment="sweep", name="trial-a", parent=parent.id,
                           config={"lr": 3e-4, "batch": 64, "model": {"depth": 4, "width": 128}},
                           tags={"team": "vision", "stage": "baseline"}, notes="# Notes\n\nfirst try")
    for step in range(5):
        run.log({"loss": 1 / (step + 3), "acc": step / 10}, step=step)
    run.log({"weird": math.nan}, step=4)
    run.finish()
    sibling = tracker_sdk.init(store=path, experiment="sweep", name="trial-b", parent=parent.id)
    sibling.finish()
    store = tracker_sdk.Store(path)
    yield store, store.get_run(run.id), store.get_run(parent.id), store.get_run(sibling.id)
    store.close()


@pytest.fixture()
def view(qtbot, store_runs):
    v = RunDetailView()
    qtbot.addWidget(v)
    v.resize(900, 600)
    _, run, parent, sibling = store_runs
    v.show_run(run, children=(), parent=parent)
    return v


def test_formatting_helpers():
    assert fmt_number(math.nan) == "nan"
    assert fmt_number(1 / 3) == "0.333333"
    assert fmt_number(123456789.0) == "1.23457e+08"
    assert fmt_number(-math.inf) == "-inf"
    assert fmt_number(42) == "42"
    assert human_duration(3725) == "1h 02m"
    assert human_duration(185) == "3m 05s"
    assert human_duration(2.5) == "2.5s"
    assert human_duration(2 * 86400 + 3 * 3600) == "2d 03h"
    assert human_size(20 * 1024 * 1024) == "20.0 MB"
    assert git_text({"git_commit": "0123456789abcdef", "git_branch": "main", "git_dirty": True}) \
        == "01234567 (main) · dirty"
    assert git_text({}) == ""


def test_empty_state(qtbot):
    v = RunDetailView()
    qtbot.addWidget(v)
    assert v.stack.currentWidget() is v.empty
    assert v.empty.text() == "Select a run in the table"
    v.show_run(None)
    assert v.stack.currentWidget() is v.empty


def test_header_and_overview(view, store_runs):
    _, run, parent, _ = store_runs
    assert view.stack.currentIndex() == 1
    assert view.title.full_text() == "trial-a"
    assert view.status_chip.text() == "FINISHED"
    assert view.status_chip.property("status") == "FINISHED"
    assert view.run_id_label.text() == run.id
    assert view.field_text("experiment") == "sweep"
    assert view.field_text("status") == "Finished"
    assert view.field_text("duration") == human_duration(run.duration_s)
    assert view.field_text("start").startswith("20")
    assert view.field_text("python") == platform.python_version()
    assert view.field_text("host") == run.host
    assert view.field_text("pid") == str(run.environment["pid"])
    assert "python" in view.field_text("command").lower() or "pytest" in view.field_text("command")
    assert "sweep-root" in view.fields["parent"].text()
    assert view.field_text("children") == "—"
    assert "stage=baseline" in view.field_text("tags")
    assert "Notes" in view.note_view.text() and "first try" in view.note_view.text()


def test_children_and_links_emit_run_ids(view, store_runs, qtbot):
    _, run, parent, sibling = store_runs
    view.show_run(parent, children=[run, sibling])
    text = view.fields["children"].text()
    assert "trial-a" in text and "trial-b" in text and "(2)" in text
    assert view.field_text("parent") == "—"
    with qtbot.waitSignal(view.sig_run_activated) as sig:
        view.fields["children"].linkActivated.emit(f"run:{sibling.id}")
    assert sig.args == [sibling.id]


def test_params_table_sortable_and_filterable(view, store_runs):
    _, run, _, _ = store_runs
    assert view.params.row_count() == len(run.params) == 4
    values = {view.params.cell(r, 0): view.params.cell(r, 1) for r in range(4)}
    assert values == {"lr": "0.0003", "batch": "64", "model.depth": "4", "model.width": "128"}
    assert view.tabs.tabText(1) == "Params (4)"
    view.params.filter.setText("model.")
    assert view.params.row_count() == 2
    assert view.params.count.text() == "2 of 4"
    view.params.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert view.params.cell(0, 0) == "model.width"


def test_metric_summary_table(view):
    rows = {view.metrics.cell(r, 0): [view.metrics.cell(r, c) for c in range(1, 6)]
            for r in range(view.metrics.row_count())}
    assert rows["loss"] == ["0.142857", "0.142857", "0.333333", "5", "4"]
    assert rows["acc"] == ["0.4", "0", "0.4", "5", "4"]
    assert rows["weird"][:3] == ["nan", "nan", "nan"]
    view.metrics.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # numeric sort, NaN last
    assert [view.metrics.cell(r, 0) for r in range(3)] == ["acc", "loss", "weird"]


def test_same_run_again_keeps_tab_and_filter(view, store_runs):
    _, run, parent, _ = store_runs
    view.tabs.setCurrentIndex(1)
    view.params.filter.setText("lr")
    view.show_run(run, parent=parent)
    assert view.tabs.currentIndex() == 1
    assert view.params.row_count() == 1


def test_system_tab(view, store_runs):
    _, run, _, _ = store_runs
    packages = run.environment.get("packages", {})
    assert view.packages.model.rowCount() == len(packages) > 0
    view.packages.filter.setText("numpy")
    assert view.packages.row_count() >= 1
    assert view.system_fields["python_executable"].full_text() == run.environment["python_executable"]


# ----------------------------------------------------------------------------- tags
def _tag_row(view, key):
    t = view.tags.table
    return next(r for r in range(t.rowCount()) if t.item(r, 0).text() == key)


def test_tags_shown(view):
    assert view.tags.tags() == {"team": "vision", "stage": "baseline"}
    assert view.tags.table.rowCount() == 2


def test_tag_value_edit_emits(view, qtbot, store_runs):
    _, run, _, _ = store_runs
    with qtbot.waitSignal(view.sig_tags_edited) as sig:
        view.tags.table.item(_tag_row(view, "team"), 1).setText("nlp")
    assert sig.args == [run.id, {"team": "nlp"}, []]


def test_tag_rename_emits_set_and_removed(view, qtbot, store_runs):
    _, run, _, _ = store_runs
    with qtbot.waitSignal(view.sig_tags_edited) as sig:
        view.tags.table.item(_tag_row(view, "team"), 0).setText("group")
    assert sig.args == [run.id, {"group": "vision"}, ["team"]]
    assert view.tags.tags() == {"group": "vision", "stage": "baseline"}


def test_tag_add_and_remove(view, qtbot, store_runs):
    _, run, _, _ = store_runs
    view.tags.add_row()
    row = view.tags.table.rowCount() - 1
    view.tags.table.closePersistentEditor(view.tags.table.item(row, 0))
    with qtbot.assertNotEmitted(view.sig_tags_edited):
        view.tags.table.item(row, 1).setText("v1")  # no key yet: nothing to emit
    with qtbot.waitSignal(view.sig_tags_edited) as sig:
        view.tags.table.item(row, 0).setText("version")
    assert sig.args == [run.id, {"version": "v1"}, []]
    table = view.tags.table
    table.selectionModel().select(table.model().index(_tag_row(view, "stage"), 0),
                                  QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
    with qtbot.waitSignal(view.sig_tags_edited) as sig:
        view.tags.remove_button.click()
    assert sig.args == [run.id, {}, ["stage"]]
    assert "stage" not in view.tags.tags()


def test_bad_tag_key_shows_message_and_reverts(view, qtbot):
    with qtbot.assertNotEmitted(view.sig_tags_edited):
        view.tags.table.item(_tag_row(view, "team"), 0).setText("stage")  # duplicate
    assert "already a tag" in view.tags.message.text()
    assert view.tags.message.level() == "error"
    assert view.tags.tags() == {"team": "vision", "stage": "baseline"}
    with qtbot.assertNotEmitted(view.sig_tags_edited):
        view.tags.table.item(_tag_row(view, "team"), 0).setText("a//b")
    assert view.tags.message.text()


def test_fresh_snapshot_replaces_tags(view, store_runs):
    _, run, parent, _ = store_runs
    from dataclasses import replace

    view.show_run(replace(run, tags={"only": "one"}), parent=parent)
    assert view.tags.tags() == {"only": "one"}


# ----------------------------------------------------------------------------- note
def test_note_save_button_and_ctrl_s(view, qtbot, store_runs):
    _, run, parent, _ = store_runs
    note = view.note
    assert note.text() == "# Notes\n\nfirst try"
    assert not note.save_button.isEnabled()
    note.editor.setPlainText("# Better\n\nsecond try")
    assert note.save_button.isEnabled() and "unsaved" in note.state_label.text()
    with qtbot.waitSignal(view.sig_note_edited) as sig:
        note.save_button.click()
    assert sig.args == [run.id, "# Better\n\nsecond try"]
    assert not note.is_dirty()

    view.show()
    view.tabs.setCurrentIndex(3)
    with qtbot.waitActive(view):
        view.activateWindow()
    note.editor.setFocus()
    note.editor.setPlainText("third")
    with qtbot.waitSignal(view.sig_note_edited, timeout=2000) as sig:
        qtbot.keyClick(note.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert sig.args == [run.id, "third"]


def test_note_discard_preview_and_draft(view, store_runs):
    _, run, parent, sibling = store_runs
    note = view.note
    note.editor.setPlainText("draft text")
    note.discard()
    assert note.text() == "# Notes\n\nfirst try"
    note.preview_button.setChecked(True)
    assert note.stack.currentWidget() is note.preview
    first = note.preview.document().begin()
    assert first.text() == "Notes" and first.blockFormat().headingLevel() == 1
    note.preview_button.setChecked(False)
    note.editor.setPlainText("unsaved draft")
    view.show_run(sibling)  # switching runs keeps the draft instead of losing it
    assert note.text() == "" and view.has_unsaved_changes()
    view.show_run(run, parent=parent)
    assert note.text() == "unsaved draft" and note.is_dirty()


def test_store_update_does_not_clobber_unsaved_note(view, store_runs):
    _, run, parent, _ = store_runs
    from dataclasses import replace

    view.note.editor.setPlainText("mine")
    view.show_run(replace(run, note="changed elsewhere"), parent=parent)
    assert view.note.text() == "mine"
    view.note.discard()
    assert view.note.text() == "changed elsewhere"
