"""The cashier's short dialogs: collect cash, release free with a reason, open a gate by hand with a reason.

Each collects what the cashier typed and hands it to an async `submit` the window gives it; an error from the
service is shown in the dialog (one sentence) and the dialog stays open, so nothing typed is lost. Enter confirms,
Esc cancels, and focus starts where the cashier types first.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal, InvalidOperation

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from booth_app.ui.tasks import async_slot

log = logging.getLogger(__name__)

OTHER = "其他"  # the reason that needs its note written out


class ServiceDialog(QDialog):
    """A dialog whose OK runs an async service call; `failed` shows why it did not work."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(520)
        self.error = QLabel("")
        self.error.setObjectName("dialog-error")
        self.error.setProperty("level", "alarm")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("确认（回车）"))
        self.ok_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消（Esc）"))
        self.buttons.accepted.connect(self._confirm)
        self.buttons.rejected.connect(self.reject)
        self.busy = False

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def problem(self) -> str | None:
        """What is missing or wrong in the input, in one sentence; None when it can be submitted."""
        return None

    async def submit(self) -> None:
        raise NotImplementedError

    @async_slot
    async def _confirm(self) -> None:
        if self.busy:
            return
        if (problem := self.problem()) is not None:
            self.show_error(problem)
            return
        self.busy = True
        self.ok_button.setEnabled(False)
        try:
            await self.submit()
        except (ValueError, LookupError, RuntimeError, OSError) as exc:
            log.warning("%s: %s", self.windowTitle(), exc)
            self.show_error(str(exc))
            return
        finally:
            self.busy = False
            self.ok_button.setEnabled(True)
        self.accept()


class ReasonPicker(QWidget):
    """A list of reasons (arrow keys) and a note; the note is required when the reason is 其他."""

    def __init__(self, reasons: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("reason-list")
        self.list.addItems(list(reasons))
        self.list.setCurrentRow(0)
        self.note = QLineEdit()
        self.note.setObjectName("reason-note")
        self.note.setPlaceholderText(self.tr("补充说明（选“其他”时必填）"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("原因（↑↓ 选择）")))
        layout.addWidget(self.list)
        layout.addWidget(self.note)

    @property
    def reason(self) -> str:
        item = self.list.currentItem()
        return item.text() if item is not None else ""

    @property
    def text(self) -> str:
        """The reason with its note, as recorded."""
        note = self.note.text().strip()
        return f"{self.reason}：{note}" if note else self.reason

    def problem(self) -> str | None:
        if not self.reason:
            return self.tr("请选择原因。")
        if self.reason == OTHER and not self.note.text().strip():
            return self.tr("选择“其他”时请写明原因。")
        return None


class CashDialog(ServiceDialog):
    """Collect the fee in cash: Enter releases the car. The amount handed over is optional (it works out the change)."""

    def __init__(
        self,
        plate: str,
        due: Decimal,
        lane_name: str,
        submit: Callable[[], Awaitable[None]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("收现金放行"), parent)
        self.setObjectName("cash-dialog")
        self.due = due
        self._submit = submit
        amount = QLabel(self.tr("{0} 元").format(f"{due:.2f}"))
        amount.setObjectName("due-amount")
        self.received = QLineEdit()
        self.received.setObjectName("cash-received")
        self.received.setPlaceholderText(self.tr("实收金额（可不填）"))
        self.change = QLabel("")
        self.change.setObjectName("cash-change")
        self.received.textChanged.connect(self._show_change)
        form = QFormLayout()
        form.addRow(self.tr("车道"), QLabel(lane_name))
        form.addRow(self.tr("车牌"), QLabel(plate))
        form.addRow(self.tr("应收"), amount)
        form.addRow(self.tr("实收"), self.received)
        form.addRow(self.tr("找零"), self.change)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.received.setFocus()

    def _received(self) -> Decimal | None:
        text = self.received.text().strip()
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            return Decimal(-1)
        return value if value.is_finite() else Decimal(-1)

    def _show_change(self) -> None:
        received = self._received()
        if received is None or received < self.due:
            self.change.setText("")
        else:
            self.change.setText(self.tr("{0} 元").format(f"{received - self.due:.2f}"))

    def problem(self) -> str | None:
        received = self._received()
        if received is not None and received < self.due:
            return self.tr("实收金额少于应收 {0} 元。").format(f"{self.due:.2f}")
        return None

    async def submit(self) -> None:
        await self._submit()


class FreeReleaseDialog(ServiceDialog):
    """Let the car at an exit out without payment; the reason is recorded and reported."""

    def __init__(
        self,
        plate: str,
        due: Decimal,
        reasons: Sequence[str],
        submit: Callable[[str], Awaitable[None]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("免费放行"), parent)
        self.setObjectName("free-release-dialog")
        self._submit = submit
        self.reasons = ReasonPicker(reasons)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("{0}  应缴 {1} 元，免费放行").format(plate, f"{due:.2f}")))
        layout.addWidget(self.reasons)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.reasons.list.setFocus()

    def problem(self) -> str | None:
        return self.reasons.problem()

    async def submit(self) -> None:
        await self._submit(self.reasons.text)


class ManualReleaseDialog(ServiceDialog):
    """Open a lane's gate by hand: which lane (preselected), why, and a note; recorded with the current frame."""

    def __init__(
        self,
        lanes: Sequence[tuple[str, str]],
        lane_id: str,
        reasons: Sequence[str],
        submit: Callable[[str, str, str], Awaitable[None]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("人工抬杆"), parent)
        self.setObjectName("manual-release-dialog")
        self._submit = submit
        self.lane = QComboBox()
        self.lane.setObjectName("release-lane")
        for lane_id_, name in lanes:
            self.lane.addItem(f"{name} · {lane_id_}", lane_id_)
        self.lane.setCurrentIndex(max(0, self.lane.findData(lane_id)))
        self.reasons = ReasonPicker(reasons)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.addRow(self.tr("车道（Shift+Tab 切换）"), self.lane)
        layout.addLayout(form)
        layout.addWidget(self.reasons)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.reasons.list, self.reasons.note)
        self.setTabOrder(self.reasons.note, self.lane)
        self.reasons.list.setFocus()

    @property
    def lane_id(self) -> str:
        return str(self.lane.currentData())

    def problem(self) -> str | None:
        return self.reasons.problem()

    async def submit(self) -> None:
        await self._submit(self.lane_id, self.reasons.reason, self.reasons.note.text().strip())
