"""Operators and passwords, by keyboard alone in the real window: an admin adds a cashier, a cashier changes only
their own password. Each test then logs in (or fails to) with what was typed, against the store."""

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from booth_app.core.types import Role
from booth_app.lanes.staff import LoginError
from booth_app.ui.operators import OperatorsDialog
from tests.helpers import until

from .conftest import ADMIN, CASHIER, booth_running
from .keyboard import Key, dialog_open, focused, press, type_text


async def child_open(dialog: OperatorsDialog, name: str) -> None:
    await until(lambda: dialog.child is not None and dialog.child.objectName() == name, within=5)
    assert dialog.child is not None
    await until(lambda: dialog.child.isAncestorOf(QApplication.focusWidget()), within=5)


async def child_closed(dialog: OperatorsDialog) -> None:
    await until(lambda: dialog.child is None, within=10)
    await until(lambda: dialog.isAncestorOf(QApplication.focusWidget()), within=5)


async def test_an_admin_adds_a_cashier_who_can_then_log_in(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path, logged_in=False) as booth:
        booth.shell.bridge.set_on_duty(await booth.staff.login(*ADMIN))
        press(qtbot, Key.Key_F12)
        dialog = await dialog_open(booth, "operators-dialog")
        assert isinstance(dialog, OperatorsDialog)
        await until(lambda: len(dialog.operators) == 2)
        press(qtbot, Key.Key_Insert)
        await child_open(dialog, "add-operator-dialog")
        type_text(qtbot, "li")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "李四")
        press(qtbot, Key.Key_Tab)  # the role: 收费员 first
        assert focused().objectName() == "operator-role"
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "li-pass-1")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "li-pass-2")  # a slip: refused in place, nothing written
        press(qtbot, Key.Key_Return)
        assert dialog.child is not None
        await until(dialog.child.error.isVisible)
        assert dialog.child.error.text() == "两次输入的密码不一致。"
        assert await booth.site.store.operator("li") is None
        press(qtbot, Key.Key_Backspace)
        type_text(qtbot, "1")
        press(qtbot, Key.Key_Return)
        await child_closed(dialog)
        await until(lambda: [operator.username for operator in dialog.operators] == ["admin", "li", "wang"])
        assert dialog.table.currentRow() == 1  # the one just added
        added = await booth.site.store.operator("li")
        assert added is not None
        assert (added.role, added.display_name) == (Role.CASHIER, "李四")
        assert "li-pass-1" not in added.password_hash  # stored as an argon2 hash, never as typed
        on_duty = await booth.staff.login("li", "li-pass-1")
        assert on_duty.operator.username == "li"


async def test_a_cashier_changes_their_own_password_and_no_one_elses(qtbot: QtBot, tmp_path: Path) -> None:
    async with booth_running(qtbot, tmp_path) as booth:  # 王 is on duty
        press(qtbot, Key.Key_F12)
        dialog = await dialog_open(booth, "operators-dialog")
        assert isinstance(dialog, OperatorsDialog)
        await until(lambda: dialog.selected() is not None and dialog.selected().username == "wang")
        press(qtbot, Key.Key_Insert)
        assert dialog.child is None
        assert dialog.message.text() == "只有管理员可以添加操作员"
        press(qtbot, Key.Key_Up)  # the admin's row
        selected = dialog.selected()
        assert selected is not None
        assert selected.username == "admin"
        press(qtbot, Key.Key_F2)
        assert dialog.child is None
        assert dialog.message.text() == "只能修改自己的密码"
        press(qtbot, Key.Key_Down)
        press(qtbot, Key.Key_Return)  # Enter on one's own row: the password
        await child_open(dialog, "set-password-dialog")
        type_text(qtbot, "new-pass-9")
        press(qtbot, Key.Key_Tab)
        type_text(qtbot, "new-pass-9")
        press(qtbot, Key.Key_Return)
        await child_closed(dialog)
        assert dialog.message.text() == "密码已修改：wang"
        assert (await booth.staff.login("wang", "new-pass-9")).operator.username == "wang"
        with pytest.raises(LoginError):
            await booth.staff.login(*CASHIER)
        assert (await booth.staff.login(*ADMIN)).operator.username == "admin"  # untouched
