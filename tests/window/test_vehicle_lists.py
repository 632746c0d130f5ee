"""The vehicle lists dialog, driven by the keyboard alone over a real store and real files."""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from booth_app.core.types import Vehicle, VehicleKind
from booth_app.core.vehicle_csv import read_vehicles_csv, write_vehicles_csv
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from booth_app.ui.vehicles import VehicleEditDialog, VehicleListsDialog, today_in_china
from tests.helpers import until

W = TypeVar("W", bound=QWidget)
TODAY = today_in_china()
DAY = timedelta(days=1)
KEY = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    # The event loops of earlier tests leave Python-owned Qt timers behind; collect them here, on the GUI thread,
    # before the store's thread runs a collection that would destroy them there (a Qt warning, so a failure).
    gc.collect()
    store = await Store.open(sqlite_url(tmp_path / "booth.db"))
    yield store
    await store.close()


OpenLists = Callable[..., Awaitable[VehicleListsDialog]]


@pytest.fixture
async def open_lists(store: Store) -> AsyncIterator[OpenLists]:
    """Open the lists dialog over `store` (`can_edit=` an admin's or a cashier's), shown and loaded."""
    opened: list[VehicleListsDialog] = []

    async def open_dialog(*, can_edit: bool = True) -> VehicleListsDialog:
        dialog = VehicleListsDialog(store, can_edit=can_edit)
        opened.append(dialog)
        await changed(dialog, dialog.show)
        dialog.activateWindow()
        await until(lambda: QApplication.focusWidget() is dialog.table)
        return dialog

    yield open_dialog
    for dialog in opened:
        dialog.close()
        # Delete it here, on the GUI thread: left to the garbage collector, it may go on whichever thread collects it
        # (the store's), and Qt objects must die on their own thread.
        shiboken6.delete(dialog)


async def changed(dialog: VehicleListsDialog, action: Callable[[], object]) -> None:
    """Do `action` and wait until the table reloaded from the store."""
    done = asyncio.get_running_loop().create_future()

    def resolve() -> None:
        if not done.done():
            done.set_result(None)

    dialog.changed.connect(resolve)
    try:
        action()
        await asyncio.wait_for(done, 10)
    finally:
        dialog.changed.disconnect(resolve)


async def shown(parent: QWidget, kind: type[W]) -> W:
    """The visible window of `kind` that `parent` opened."""
    found: list[W] = []

    def visible() -> bool:
        found[:] = [child for child in parent.findChildren(kind) if child.isVisible()]
        return bool(found)

    await until(visible)
    (widget,) = found
    await until(lambda: QApplication.focusWidget() is not None and widget.isAncestorOf(QApplication.focusWidget()))
    return widget


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def type_text(qtbot: QtBot, text: str, *, replace: bool = False) -> None:
    """Type into the focused field (over what it holds, with `replace`). Chinese arrives as an input method's commit,
    as it does from a real keyboard; the rest as key presses."""
    if replace:
        qtbot.keyClick(focused(), KEY.Key_A, CTRL)
        qtbot.keyClick(focused(), KEY.Key_Backspace)
    for ascii_run, run in itertools.groupby(text, key=str.isascii):
        chunk = "".join(run)
        if ascii_run:
            qtbot.keyClicks(focused(), chunk)
        else:
            event = QInputMethodEvent()
            event.setCommitString(chunk)
            QApplication.sendEvent(focused(), event)


def tab(qtbot: QtBot, times: int = 1) -> None:
    for _ in range(times):
        qtbot.keyClick(focused(), KEY.Key_Tab)


def visible_rows(dialog: VehicleListsDialog) -> list[list[str]]:
    rows = dialog.table.model()
    return [[rows.index(row, column).data() for column in range(rows.columnCount())] for row in range(rows.rowCount())]


async def choose_file(qtbot: QtBot, dialog: VehicleListsDialog, path: Path) -> None:
    """Type a path into the file dialog the last key opened, and press Enter."""
    files = await shown(dialog, QFileDialog)
    name = files.findChild(QLineEdit, "fileNameEdit")
    assert focused() is name
    type_text(qtbot, str(path), replace=True)
    qtbot.keyClick(name, KEY.Key_Return)
    await until(lambda: not files.isVisible())


async def answer(qtbot: QtBot, dialog: VehicleListsDialog, key: Qt.Key) -> str:
    """Answer the confirmation the last key asked for with Enter (yes) or Esc (no); its question. The keyboard is back
    on the table afterwards."""
    box = await shown(dialog, QMessageBox)
    question = box.text()
    qtbot.keyClick(focused(), key)
    await until(lambda: QApplication.focusWidget() is dialog.table)
    return question


# ---------------------------------------------------------------- one month card's life


async def test_add_edit_and_expire_a_month_card(qtbot: QtBot, store: Store, open_lists: OpenLists) -> None:
    dialog = await open_lists()
    assert focused() is dialog.table

    qtbot.keyClick(dialog.table, KEY.Key_Insert)
    edit = await shown(dialog, VehicleEditDialog)
    assert focused() is edit.plate
    type_text(qtbot, "京a·1234")  # one character short
    tab(qtbot)
    assert focused() is edit.kind
    assert edit.kind.currentText() == "月卡"
    tab(qtbot)
    type_text(qtbot, (TODAY - 10 * DAY).isoformat(), replace=True)
    tab(qtbot)
    type_text(qtbot, "2026-13-01", replace=True)
    tab(qtbot)
    type_text(qtbot, "张三")
    qtbot.keyClick(focused(), KEY.Key_Return)
    assert edit.errors.text().splitlines() == [
        "车牌：京a·1234 不是有效的车牌",
        "结束日期：2026-13-01 不是日期（应为 YYYY-MM-DD）",
    ]
    assert edit.isVisible()
    assert focused() is edit.plate  # on the first thing to fix
    qtbot.keyClicks(focused(), "5")
    tab(qtbot, 3)
    assert focused() is edit.valid_to
    type_text(qtbot, (TODAY + 20 * DAY).isoformat(), replace=True)
    await changed(dialog, lambda: qtbot.keyClick(focused(), KEY.Key_Return))
    card = Vehicle("京A12345", VehicleKind.MONTH, TODAY - 10 * DAY, TODAY + 20 * DAY, "张三")
    assert await store.vehicles() == [card]
    assert visible_rows(dialog) == [
        ["京A12345", "月卡", card.valid_from.isoformat(), card.valid_to.isoformat(), "有效", "张三", ""]
    ]
    assert dialog.message.text() == "已添加 京A12345"

    # Enter on the row edits it, starting on the end date: a renewal is one date and Enter.
    assert focused() is dialog.table
    qtbot.keyClick(dialog.table, KEY.Key_Return)
    edit = await shown(dialog, VehicleEditDialog)
    assert focused() is edit.valid_to
    assert edit.plate.isReadOnly()
    qtbot.keyClicks(focused(), (TODAY + 50 * DAY).isoformat())  # the old date is selected: typing replaces it
    await changed(dialog, lambda: qtbot.keyClick(focused(), KEY.Key_Return))
    assert await store.vehicle("京A12345") == Vehicle(
        "京A12345", VehicleKind.MONTH, TODAY - 10 * DAY, TODAY + 50 * DAY, "张三"
    )

    # F2 edits too; Esc leaves it as it was.
    qtbot.keyClick(dialog.table, KEY.Key_F2)
    edit = await shown(dialog, VehicleEditDialog)
    qtbot.keyClicks(focused(), "2000-01-01")
    qtbot.keyClick(focused(), KEY.Key_Escape)
    await until(lambda: not edit.isVisible())
    assert (await store.vehicle("京A12345")).valid_to == TODAY + 50 * DAY

    # Ctrl+E expires it from today, after Enter confirms; Esc would have left it alone.
    qtbot.keyClick(dialog.table, KEY.Key_E, CTRL)
    assert "京A12345" in await answer(qtbot, dialog, KEY.Key_Escape)
    assert (await store.vehicle("京A12345")).valid_to == TODAY + 50 * DAY
    qtbot.keyClick(dialog.table, KEY.Key_E, CTRL)
    question = await answer(qtbot, dialog, KEY.Key_Return)
    assert (TODAY - DAY).isoformat() in question
    await until(lambda: dialog.message.text() == "京A12345 已设为过期")
    assert (await store.vehicle("京A12345")).valid_to == TODAY - DAY
    assert visible_rows(dialog)[0][3:5] == [(TODAY - DAY).isoformat(), "已过期"]


async def test_delete_asks_first(qtbot: QtBot, store: Store, open_lists: OpenLists) -> None:
    await store.put_vehicles(
        [Vehicle("京A12345", VehicleKind.WHITELIST, TODAY), Vehicle("粤B54321", VehicleKind.BLACKLIST, TODAY)]
    )
    dialog = await open_lists()
    assert dialog.table.selectionModel().selectedRows()[0].data() == "京A12345"
    qtbot.keyClick(dialog.table, KEY.Key_Down)
    qtbot.keyClick(dialog.table, KEY.Key_Delete)
    assert await answer(qtbot, dialog, KEY.Key_Escape) == "从黑名单中删除 粤B54321？"
    assert len(await store.vehicles()) == 2
    qtbot.keyClick(focused(), KEY.Key_Delete)
    assert await answer(qtbot, dialog, KEY.Key_Return) == "从黑名单中删除 粤B54321？"
    await until(lambda: dialog.message.text() == "已删除 粤B54321")
    assert [vehicle.plate for vehicle in await store.vehicles()] == ["京A12345"]
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345"]


async def test_adding_a_listed_plate_is_refused_and_the_kind_is_chosen_by_keys(
    qtbot: QtBot, store: Store, open_lists: OpenLists
) -> None:
    listed = Vehicle("京A12345", VehicleKind.MONTH, TODAY, TODAY + 30 * DAY)
    await store.put_vehicles([listed])
    dialog = await open_lists()
    qtbot.keyClick(focused(), KEY.Key_N, CTRL)
    edit = await shown(dialog, VehicleEditDialog)
    type_text(qtbot, "京A 12345")
    tab(qtbot)
    qtbot.keyClick(focused(), KEY.Key_Down)
    assert edit.kind.currentText() == "白名单"
    qtbot.keyClick(focused(), KEY.Key_Return)  # Enter on the list of kinds saves, as on any field
    assert edit.errors.text() == "车牌：京A12345 已在名单中，请在表中选中它修改"
    assert focused() is edit.plate
    type_text(qtbot, "粤B·54321", replace=True)
    await changed(dialog, lambda: qtbot.keyClick(focused(), KEY.Key_Return))
    assert await store.vehicles() == [listed, Vehicle("粤B54321", VehicleKind.WHITELIST, TODAY)]  # no end date
    assert dialog.table.selectionModel().selectedRows()[0].data() == "粤B54321"  # the new one is selected


# ---------------------------------------------------------------- finding a car


async def test_search_by_plate_or_owner_and_filter_by_kind(qtbot: QtBot, store: Store, open_lists: OpenLists) -> None:
    await store.put_vehicles(
        [
            Vehicle("京A12345", VehicleKind.MONTH, TODAY - 30 * DAY, TODAY - DAY, "张三"),
            Vehicle("京B22222", VehicleKind.MONTH, TODAY + DAY, None, "Li Si"),
            Vehicle("沪C33333", VehicleKind.WHITELIST, TODAY, None, "张三丰"),
            Vehicle("粤D44444", VehicleKind.BLACKLIST, TODAY - DAY, TODAY, "", "逃费"),
        ]
    )
    dialog = await open_lists()
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345", "京B22222", "沪C33333", "粤D44444"]
    assert [row[4] for row in visible_rows(dialog)] == ["已过期", "未生效", "有效", "有效"]

    qtbot.keyClick(dialog.table, KEY.Key_F, CTRL)
    assert focused() is dialog.search
    type_text(qtbot, "张三")
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345", "沪C33333"]
    type_text(qtbot, "b2", replace=True)  # any case, part of the plate
    assert [row[0] for row in visible_rows(dialog)] == ["京B22222"]
    type_text(qtbot, "li s", replace=True)
    assert [row[0] for row in visible_rows(dialog)] == ["京B22222"]
    type_text(qtbot, "京", replace=True)
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345", "京B22222"]

    tab(qtbot)
    assert focused() is dialog.kind_filter
    qtbot.keyClick(focused(), KEY.Key_Down)
    assert dialog.kind_filter.currentText() == "月卡"
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345", "京B22222"]
    qtbot.keyClick(focused(), KEY.Key_Down)
    assert [row[0] for row in visible_rows(dialog)] == []  # no whitelisted plate has 京 in it
    qtbot.keyClick(dialog.search, KEY.Key_S, Qt.KeyboardModifier.AltModifier)  # the label's mnemonic
    assert focused() is dialog.search
    qtbot.keyClick(focused(), KEY.Key_A, CTRL)
    qtbot.keyClick(focused(), KEY.Key_Backspace)
    assert [row[0] for row in visible_rows(dialog)] == ["沪C33333"]

    # Enter in the search field takes the keyboard to the rows found, where Enter edits.
    qtbot.keyClick(focused(), KEY.Key_Return)
    assert focused() is dialog.table
    qtbot.keyClick(dialog.table, KEY.Key_Return)
    edit = await shown(dialog, VehicleEditDialog)
    assert edit.plate.text() == "沪C33333"
    qtbot.keyClick(focused(), KEY.Key_Escape)


# ---------------------------------------------------------------- files


# The file dialog's completer pops up as the path is typed: the offscreen platform cannot raise it or grab the keys.
offscreen_popups = pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|grabbing the keyboard)")


@offscreen_popups
async def test_a_file_with_a_bad_line_imports_nothing_and_shows_every_problem(
    qtbot: QtBot, store: Store, open_lists: OpenLists, tmp_path: Path
) -> None:
    kept = Vehicle("京A12345", VehicleKind.MONTH, date(2026, 1, 1), date(2026, 12, 31), "张三")
    await store.put_vehicles([kept])
    path = tmp_path / "月卡.csv"
    path.write_bytes(
        "车牌,类型,开始日期,结束日期,车主\r\n"
        "京A12345,月卡,2026-01-01,2027-12-31,张三\r\n"
        "京B12345,月卡,2026-01-01,2026-13-01,李四\r\n"
        "京C1,白名单,2026-01-01,,\r\n".encode("gbk")
    )
    dialog = await open_lists()
    qtbot.keyClick(dialog.table, KEY.Key_I, CTRL)
    await choose_file(qtbot, dialog, path)
    await until(lambda: dialog.problems.isVisible())
    assert dialog.message.text() == "月卡.csv 有 2 处问题，一辆也没有导入："
    assert dialog.problems.toPlainText().splitlines() == [
        "第3行 结束日期：2026-13-01 不是日期（应为 YYYY-MM-DD）",
        "第4行 车牌：京C1 不是有效的车牌",
    ]
    assert await store.vehicles() == [kept]


@offscreen_popups
async def test_a_good_file_says_what_it_changes_and_lands_whole(
    qtbot: QtBot, store: Store, open_lists: OpenLists, tmp_path: Path
) -> None:
    await store.put_vehicles([Vehicle("京A12345", VehicleKind.MONTH, date(2026, 1, 1), date(2026, 12, 31), "张三")])
    path = tmp_path / "vehicles.csv"
    path.write_text(
        "\ufeffplate,kind,valid_from,valid_to,owner,note\n"
        "京A12345,month,2026-01-01,2027-12-31,张三,续费一年\n"
        "京B12345,whitelist,2026-01-01,,李四,\n"
        "粤C12345,黑名单,2026-02-01,,,逃费\n",
        encoding="utf-8",
    )
    dialog = await open_lists()
    qtbot.keyClick(dialog.table, KEY.Key_I, CTRL)
    await choose_file(qtbot, dialog, path)
    assert await answer(qtbot, dialog, KEY.Key_Return) == "从 vehicles.csv 导入 3 辆车：新增 2 辆，替换已有的 1 辆。"
    await until(lambda: dialog.message.text() == "已从 vehicles.csv 导入 3 辆车")
    assert await store.vehicles() == read_vehicles_csv(path)
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345", "京B12345", "粤C12345"]


@offscreen_popups
async def test_an_import_can_be_called_off(qtbot: QtBot, store: Store, open_lists: OpenLists, tmp_path: Path) -> None:
    path = tmp_path / "vehicles.csv"
    write_vehicles_csv(path, [Vehicle("京B12345", VehicleKind.WHITELIST, TODAY)])
    dialog = await open_lists()
    qtbot.keyClick(dialog.table, KEY.Key_I, CTRL)
    await shown(dialog, QFileDialog)
    qtbot.keyClick(focused(), KEY.Key_Escape)  # no file after all
    await until(lambda: QApplication.focusWidget() is dialog.table)
    dialog.import_csv(path)  # as if the file had been chosen
    assert await answer(qtbot, dialog, KEY.Key_Escape) == "从 vehicles.csv 导入 1 辆车：新增 1 辆，替换已有的 0 辆。"
    assert await store.vehicles() == []


@offscreen_popups
async def test_export_writes_what_the_store_holds(
    qtbot: QtBot, store: Store, open_lists: OpenLists, tmp_path: Path
) -> None:
    vehicles = [
        Vehicle("京A12345", VehicleKind.MONTH, date(2026, 1, 1), date(2026, 12, 31), "张三", "3号楼, 地下"),
        Vehicle("粤Z1234港", VehicleKind.WHITELIST, date(2025, 6, 1)),
    ]
    await store.put_vehicles(vehicles)
    dialog = await open_lists()
    qtbot.keyClick(dialog.table, KEY.Key_F, CTRL)
    type_text(qtbot, "张")  # what the search shows does not limit the export
    assert len(visible_rows(dialog)) == 1
    path = tmp_path / "out" / "名单.csv"
    path.parent.mkdir()
    qtbot.keyClick(focused(), KEY.Key_O, CTRL)
    await choose_file(qtbot, dialog, path)
    await until(lambda: dialog.message.text() == f"已导出 2 辆车到 {path}")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfplate,kind,")
    assert read_vehicles_csv(path) == await store.vehicles() == vehicles


async def test_export_to_a_folder_that_is_gone_says_so(
    qtbot: QtBot, store: Store, open_lists: OpenLists, tmp_path: Path
) -> None:
    dialog = await open_lists()
    path = tmp_path / "gone" / "名单.csv"
    await dialog.export_csv(path)
    assert dialog.message.text() == f"写不了文件 {path}：No such file or directory"
    assert not path.exists()


# ---------------------------------------------------------------- a cashier looks only


async def test_a_cashier_may_look_but_not_change(
    qtbot: QtBot, store: Store, open_lists: OpenLists, tmp_path: Path
) -> None:
    card = Vehicle("京A12345", VehicleKind.MONTH, TODAY - DAY, TODAY + 30 * DAY, "张三")
    await store.put_vehicles([card])
    path = tmp_path / "vehicles.csv"
    write_vehicles_csv(path, [Vehicle("京B12345", VehicleKind.WHITELIST, TODAY)])
    dialog = await open_lists(can_edit=False)
    assert [row[0] for row in visible_rows(dialog)] == ["京A12345"]
    assert {action for action, button in dialog.buttons.items() if button.isEnabled()} == {"export"}
    for key, modifier in [
        (KEY.Key_Insert, Qt.KeyboardModifier.NoModifier),
        (KEY.Key_N, CTRL),
        (KEY.Key_Return, Qt.KeyboardModifier.NoModifier),
        (KEY.Key_F2, Qt.KeyboardModifier.NoModifier),
        (KEY.Key_E, CTRL),
        (KEY.Key_Delete, Qt.KeyboardModifier.NoModifier),
        (KEY.Key_I, CTRL),
    ]:
        dialog.say("")
        qtbot.keyClick(dialog.table, key, modifier)
        assert dialog.message.text() == "只有管理员可以修改车辆名单", key
        assert [child for child in dialog.findChildren(QWidget) if child.isWindow() and child.isVisible()] == []
        assert focused() is dialog.table
    dialog.say("")
    await dialog.import_csv(path)  # even called directly, not by its key
    assert dialog.message.text() == "只有管理员可以修改车辆名单"
    assert await store.vehicles() == [card]
