"""The booth's operators: who may log in, as what, and their passwords.

An admin adds cashiers (or other admins) and sets anyone's password; a cashier sees the list and changes their own
password only. Keys: Ins adds, F2 sets the selected operator's password, Esc closes. Passwords go to `Staff`, which
hashes them (argon2) off the event loop; nothing here keeps one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from booth_app.core.types import Operator, Role
from booth_app.lanes.staff import OnDuty, Staff, StaffError
from booth_app.ui.dialogs import ServiceDialog
from booth_app.ui.tasks import async_slot
from booth_app.ui.theme import set_level


def role_name(role: Role) -> str:
    names = {
        Role.ADMIN: QApplication.translate("Operators", "管理员"),
        Role.CASHIER: QApplication.translate("Operators", "收费员"),
    }
    return names.get(role, role.value)


class PasswordFields(QObject):
    """A password typed twice: two fields added to `form` (a QObject, not a widget: it has nothing to show itself)."""

    def __init__(self, form: QFormLayout, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.password = QLineEdit()
        self.password.setObjectName("operator-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setObjectName("operator-password-again")
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("密码（至少 6 位）"), self.password)
        form.addRow(self.tr("再次输入密码"), self.again)

    def problem(self) -> str | None:
        if not self.password.text():
            return self.tr("请输入密码。")
        if self.password.text() != self.again.text():
            return self.tr("两次输入的密码不一致。")
        return None


class AddOperatorDialog(ServiceDialog):
    """A new operator: username, name, role (↑↓ in the list), password twice."""

    def __init__(self, staff: Staff, by: OnDuty, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("添加操作员"), parent)
        self.setObjectName("add-operator-dialog")
        self.staff, self.by = staff, by
        self.added: Operator | None = None
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setObjectName("operator-username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("operator-display-name")
        self.role = QComboBox()
        self.role.setObjectName("operator-role")
        for role in (Role.CASHIER, Role.ADMIN):
            self.role.addItem(role_name(role), role)
        form.addRow(self.tr("用户名"), self.username)
        form.addRow(self.tr("姓名"), self.display_name)
        form.addRow(self.tr("角色"), self.role)
        self.passwords = PasswordFields(form, self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.username.setFocus()

    def problem(self) -> str | None:
        if not self.username.text().strip():
            return self.tr("请输入用户名。")
        return self.passwords.problem()

    async def submit(self) -> None:
        try:
            self.added = await self.staff.add_operator(
                self.by, self.username.text().strip(), self.passwords.password.text(), self.role.currentData(),
                self.display_name.text().strip(),
            )  # fmt: skip
        except (StaffError, PermissionError) as exc:
            raise ValueError(str(exc)) from exc


class SetPasswordDialog(ServiceDialog):
    """A new password for one operator, typed twice."""

    def __init__(self, staff: Staff, by: OnDuty, operator: Operator, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("修改密码"), parent)
        self.setObjectName("set-password-dialog")
        self.staff, self.by, self.operator = staff, by, operator
        form = QFormLayout()
        form.addRow(self.tr("操作员"), QLabel(f"{operator.display_name or operator.username}（{operator.username}）"))
        self.passwords = PasswordFields(form, self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.passwords.password.setFocus()

    def problem(self) -> str | None:
        return self.passwords.problem()

    async def submit(self) -> None:
        try:
            await self.staff.set_password(self.by, self.operator.username, self.passwords.password.text())
        except (StaffError, PermissionError) as exc:
            raise ValueError(str(exc)) from exc


class OperatorsDialog(QDialog):
    """The operators in a table; Ins adds one (admin), F2 sets the selected one's password."""

    def __init__(self, staff: Staff, on_duty: OnDuty, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("operators-dialog")
        self.setWindowTitle(self.tr("操作员"))
        self.resize(760, 480)
        self.staff, self.on_duty = staff, on_duty
        self.operators: list[Operator] = []
        self.child: QDialog | None = None
        self._loaded = False
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("operators-table")
        self.table.setHorizontalHeaderLabels([self.tr("用户名"), self.tr("姓名"), self.tr("角色")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel("")
        self.message.setObjectName("operators-message")
        self.message.setWordWrap(True)
        actions: list[tuple[str, str, Callable[[], None]]] = [
            (self.tr("添加操作员"), "Ins", self.add),
            (self.tr("修改密码"), "F2", self.set_password),
        ]
        row = QHBoxLayout()
        for title, key, handler in actions:
            QShortcut(QKeySequence(key), self, handler).setAutoRepeat(False)
            shown = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
            button = QPushButton(f"{title} ({shown})")
            button.setAutoDefault(False)
            button.clicked.connect(handler)
            row.addWidget(button)
        row.addStretch()
        close = QPushButton(self.tr("关闭 (Esc)"))
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        if not on_duty.is_admin:
            layout.addWidget(QLabel(self.tr("收费员只能修改自己的密码；添加操作员需要管理员登录。")))
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.table.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter on the table sets the password; it must never reach a dialog opened from here as a second Enter.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            if self.child is None:
                self.set_password()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.reload()

    def say(self, text: str, level: str | None = None) -> None:
        self.message.setText(text)
        set_level(self.message, level)

    @async_slot
    async def reload(self, select: str = "") -> None:
        self.operators = [operator for operator in await self.staff.operators() if operator.active]
        self.table.setRowCount(len(self.operators))
        for number, operator in enumerate(self.operators):
            cells = (operator.username, operator.display_name, role_name(operator.role))
            for column, text in enumerate(cells):
                self.table.setItem(number, column, QTableWidgetItem(text))
        usernames = [operator.username for operator in self.operators]
        wanted = select or self.on_duty.operator.username
        self.table.selectRow(usernames.index(wanted) if wanted in usernames else 0)

    def selected(self) -> Operator | None:
        row = self.table.currentRow()
        return self.operators[row] if 0 <= row < len(self.operators) else None

    def add(self) -> None:
        if self.child is not None:
            return
        if not self.on_duty.is_admin:
            self.say(self.tr("只有管理员可以添加操作员"), "warning")
            return
        dialog = AddOperatorDialog(self.staff, self.on_duty, self)
        dialog.accepted.connect(lambda: self._done(dialog.added.username if dialog.added else "", self.tr("已添加")))
        self._open(dialog)

    def set_password(self) -> None:
        operator = self.selected()
        if self.child is not None or operator is None:
            return
        if not self.on_duty.is_admin and operator.username != self.on_duty.operator.username:
            self.say(self.tr("只能修改自己的密码"), "warning")
            return
        dialog = SetPasswordDialog(self.staff, self.on_duty, operator, self)
        dialog.accepted.connect(lambda: self._done(operator.username, self.tr("密码已修改")))
        self._open(dialog)

    def _open(self, dialog: QDialog) -> None:
        self.child = dialog
        dialog.finished.connect(lambda _result: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        self.child = None
        dialog.deleteLater()
        self.activateWindow()  # the keyboard comes back to the table
        self.table.setFocus()

    def _done(self, username: str, what: str) -> None:
        self.say(f"{what}：{username}", "ok")
        self.reload(username)
