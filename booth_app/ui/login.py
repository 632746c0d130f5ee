"""Putting an operator on duty: the login dialog, and on the first start the dialog that creates the admin.

Both emit `logged_in(on_duty: OnDuty)` and accept once a shift has started. Esc (or closing the dialog) rejects it
and nobody is on duty: the lanes keep running, and the next key that changes something asks for a login again.
Enter in a field moves on to the next empty one, and logs in once all are filled.
"""

from __future__ import annotations

import itertools
import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from booth_app.lanes.staff import OnDuty, PasswordRejected, Staff, StaffError
from booth_app.ui.tasks import async_slot

log = logging.getLogger(__name__)

MIN_WIDTH = 480  # room for the heading and a long password at the booth's large print


class _StaffDialog(QDialog):
    """Fields filled in order, an inline error line, and an OK button that runs one async step at a time."""

    logged_in = Signal(object)

    def __init__(self, staff: Staff, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.staff = staff
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(MIN_WIDTH)
        self.busy = False
        heading = QLabel(title)  # the window's own title bar may be small or hidden on a booth PC
        heading.setObjectName("dialog-heading")
        self.error = QLabel("")
        self.error.setObjectName("dialog-error")
        self.error.setProperty("level", "alarm")
        self.error.setWordWrap(True)
        self.error.hide()
        self.form = QFormLayout()
        self.buttons = QDialogButtonBox()
        self.ok_button = QPushButton(ok_text)
        self.ok_button.setObjectName("login-ok")
        self.ok_button.setDefault(True)
        self.ok_button.setAutoDefault(True)
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText(self.tr("取消（Esc）"))
        self.cancel_button.setAutoDefault(False)
        self.buttons.accepted.connect(self._confirm)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.fields: list[QLineEdit] = []

    def _field(self, name: str, label: str, *, secret: bool = False) -> QLineEdit:
        field = QLineEdit()
        field.setObjectName(name)
        if secret:
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.addRow(label, field)
        self.fields.append(field)
        return field

    def show_error(self, text: str, *, clear: tuple[QLineEdit, ...] = (), focus: QLineEdit | None = None) -> None:
        self.error.setText(text)
        self.error.show()
        for field in clear:
            field.clear()
        if focus is not None:
            focus.setFocus()

    def _next_empty(self) -> QLineEdit | None:
        """The first field left empty: Enter takes the cashier there instead of complaining."""
        return next((field for field in self.fields if not field.text()), None)

    def finish_tab_order(self) -> None:
        """Fields in the order shown, then OK, then Cancel."""
        chain = [*self.fields, self.ok_button, self.cancel_button]
        for before, after in itertools.pairwise(chain):
            self.setTabOrder(before, after)
        self.fields[0].setFocus()

    async def submit(self) -> OnDuty | None:
        """Put someone on duty; None when it could not (the dialog shows why)."""
        raise NotImplementedError

    @async_slot
    async def _confirm(self) -> None:
        if self.busy:
            return
        if (empty := self._next_empty()) is not None:
            empty.setFocus()
            return
        self.busy = True
        self.ok_button.setEnabled(False)
        try:
            on_duty = await self.submit()
        finally:
            self.busy = False
            self.ok_button.setEnabled(True)
        if on_duty is None:
            return
        log.info("%s on duty, shift %d", on_duty.operator.username, on_duty.shift_id)
        self.logged_in.emit(on_duty)
        self.accept()


class LoginDialog(_StaffDialog):
    """Username and password; a refused login clears the password and waits there for another try."""

    def __init__(self, staff: Staff, parent: QWidget | None = None) -> None:
        super().__init__(staff, self.tr("操作员登录"), self.tr("登录（回车）"), parent)
        self.setObjectName("login-dialog")
        self.username = self._field("login-username", self.tr("用户名"))
        self.password = self._field("login-password", self.tr("密码"), secret=True)
        self.finish_tab_order()

    async def submit(self) -> OnDuty | None:
        try:
            return await self.staff.login(self.username.text().strip(), self.password.text())
        except StaffError as exc:
            self.show_error(str(exc), clear=(self.password,), focus=self.password)
            return None


class FirstAdminDialog(_StaffDialog):
    """The first start: name the admin account and its password (twice), then go on duty as that admin."""

    def __init__(self, staff: Staff, parent: QWidget | None = None) -> None:
        super().__init__(staff, self.tr("首次使用：创建管理员"), self.tr("创建并登录（回车）"), parent)
        self.setObjectName("first-admin-dialog")
        hint = QLabel(self.tr("这台岗亭还没有操作员。请先建立管理员账号，只有管理员可以修改设置和车辆名单。"))
        hint.setWordWrap(True)
        self.form.addRow(hint)
        self.username = self._field("first-admin-username", self.tr("用户名"))
        self.display_name = self._field("first-admin-display-name", self.tr("姓名"))
        self.password = self._field("first-admin-password", self.tr("密码（至少 6 位）"), secret=True)
        self.again = self._field("first-admin-password-again", self.tr("再次输入密码"), secret=True)
        self.finish_tab_order()

    def _next_empty(self) -> QLineEdit | None:
        return next((field for field in self.fields if not field.text() and field is not self.display_name), None)

    async def submit(self) -> OnDuty | None:
        passwords = (self.password, self.again)
        if self.password.text() != self.again.text():
            self.show_error(self.tr("两次输入的密码不一致，请重新输入。"), clear=passwords, focus=self.password)
            return None
        username, password = self.username.text().strip(), self.password.text()
        try:
            await self.staff.create_first_admin(username, password, self.display_name.text().strip())
        except PasswordRejected as exc:
            self.show_error(str(exc), clear=passwords, focus=self.password)
            return None
        except StaffError as exc:
            self.show_error(str(exc), focus=self.username)
            return None
        try:
            return await self.staff.login(username, password)
        except StaffError as exc:  # cannot happen with the password just set, unless the database changed under us
            self.show_error(str(exc))
            return None
