"""The car waiting at one exit: what it owes and why, how its payment stands, and the QR code its driver can scan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from booth_app.config import LaneConfig
from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.tariff import FeeLine
from booth_app.lanes.controller import LaneEvent
from booth_app.ui.qr import qr_image

QR_SIZE = 132


def channel_name(channel: str) -> str:
    names = {
        "cash": QCoreApplication.translate("PaymentPanel", "现金"),
        "wallet": QCoreApplication.translate("PaymentPanel", "无感支付"),
        "sweepcode": QCoreApplication.translate("PaymentPanel", "付款码"),
        "scancode": QCoreApplication.translate("PaymentPanel", "扫码支付"),
        "etc_pay": QCoreApplication.translate("PaymentPanel", "ETC"),
        "prepay": QCoreApplication.translate("PaymentPanel", "场内预付"),
        "free": QCoreApplication.translate("PaymentPanel", "免费放行"),
    }
    return names.get(channel, channel)


translate = QCoreApplication.translate  # under this name Qt's lupdate finds the strings to translate


def duration_words(span: timedelta) -> str:
    """A stay's length in the window's language: 2小时15分, 1天3小时, 8分 (a started minute counts)."""
    minutes = max(0, -(-int(span.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [
        translate("PaymentPanel", "{0}天").format(days) if days else "",
        translate("PaymentPanel", "{0}小时").format(hours) if hours else "",
        translate("PaymentPanel", "{0}分").format(mins) if mins or not (days or hours) else "",
    ]
    return translate("PaymentPanel", "{0}{1}{2}").format(*parts).strip()


def fee_line_words(line: FeeLine) -> str:
    """One 24 h period of the fee: 第1天 首60分钟 5.00 + 3×30分钟 6.00 = 11.00 (，封顶 40.00)."""
    parts = []
    if line.first_minutes:
        parts.append(translate("PaymentPanel", "首{0}分钟 {1}").format(line.first_minutes, line.first_amount))
    if line.units:
        parts.append(
            translate("PaymentPanel", "{0}×{1}分钟 {2}").format(line.units, line.unit_minutes, line.units_amount)
        )
    text = translate("PaymentPanel", "第{0}天 {1} = {2}").format(
        line.day, " + ".join(parts), line.first_amount + line.units_amount
    )
    return translate("PaymentPanel", "{0}，封顶 {1}").format(text, line.amount) if line.capped else text


class PaymentPanel(QFrame):
    """Hidden detail until a car waits at the lane; then the fee in big figures and the payment's state.

    `state` is one of: idle, waiting, matching, paying, paid, failed.
    """

    def __init__(self, lane: LaneConfig, keys: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lane = lane
        self.keys = keys  # an action's key, as the hints name it
        self.setObjectName(f"payment-{lane.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = "idle"
        self.order_id: str | None = None
        self.qr_url = ""
        self.title = QLabel(f"{lane.name} · {lane.id}")
        self.title.setObjectName("payment-title")
        self.plate = QLabel("")
        self.plate.setObjectName("plate-text")
        self.due = QLabel("")
        self.due.setObjectName("due-amount")
        self.breakdown = QLabel("")
        self.breakdown.setObjectName("fee-breakdown")
        self.breakdown.setWordWrap(True)
        self.state_label = QLabel("")
        self.state_label.setObjectName("payment-state")
        self.state_label.setWordWrap(True)
        self.qr = QLabel()
        self.qr.setObjectName("payment-qr")
        self.qr.setFixedSize(QR_SIZE, QR_SIZE)
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.title, 0, 0, 1, 2)
        grid.addWidget(self.plate, 1, 0)
        grid.addWidget(self.due, 1, 1)
        grid.addWidget(self.state_label, 2, 0, 1, 2)
        grid.addWidget(self.breakdown, 3, 0, 1, 2)
        grid.addWidget(self.qr, 0, 2, 4, 1)
        grid.setColumnStretch(1, 1)
        self.clear()

    # ------------------------------------------------------------ states

    def clear(self) -> None:
        self.state = "idle"
        self.order_id = None
        self.plate.setText("")
        self.due.setText("")
        self.breakdown.setText("")
        self.qr.clear()
        self.qr.hide()
        self._state_text(self.tr("无车辆等待缴费"), "")

    def show_event(self, event: LaneEvent) -> None:
        decision = event.decision
        match event.kind:
            case "pending" if decision is not None and decision.stay is not None:
                self.state = "waiting"
                self.order_id = decision.stay.order_id
                self.plate.setText(decision.plate)
                self.due.setText(self.tr("应缴 {0} 元").format(f"{decision.due:.2f}"))
                self.due.show()
                self.breakdown.setText(self._breakdown(decision))
                self._show_qr(getattr(event, "qr_url", ""))
                hint = self.tr("等待缴费 · 收现金：{0} 然后回车").format(self.keys("collect_cash"))
                self._state_text(hint, "warning")
            case "match":
                self.state = "matching"
                self.order_id = None
                self.plate.setText(decision.plate if decision is not None else "")
                self.due.setText("")
                self.breakdown.setText("")
                self._show_qr("")
                hint = self.tr("车牌未精确匹配：按 {0} 确认或修正").format(self.keys("correct_plate"))
                self._state_text(hint, "warning")
            case "paying":
                self.state = "paying"
                self._state_text(self.tr("支付中（{0}）…").format(channel_name(getattr(event, "channel", ""))), "")
            case "payment_failed":
                self.state = "failed"
                channel = channel_name(getattr(event, "channel", ""))
                self._state_text(self.tr("{0}支付失败：{1}").format(channel, event.text), "alarm")
            case "paid":
                self.state = "paid"
                amount: Decimal | None = getattr(event, "amount", None)
                channel = getattr(event, "channel", "")
                money = self.tr("{0} 元").format(f"{amount:.2f}") if amount is not None else ""
                self._state_text(self.tr("已支付 {0}（{1}），已放行").format(money, channel_name(channel)), "ok")
                self._show_qr("")
            case "alert" if self.state in ("waiting", "failed"):
                self._state_text(event.text, event.level)
            case "decision" if decision is not None and decision.outcome in ("exit_open", "exit_no_stay"):
                if decision.outcome == "exit_open":
                    self.clear()
                    self._state_text(self.tr("{0} 已放行").format(decision.plate), "ok")

    def _breakdown(self, decision: object) -> str:
        stay = getattr(decision, "stay", None)
        fee = getattr(decision, "fee", None)
        parts = []
        if stay is not None:
            entered: datetime = stay.entered_at
            parts.append(self.tr("入场 {0:%m-%d %H:%M}").format(entered.astimezone(CHINA_STANDARD_TIME)))
        if fee is not None:
            parts.append(self.tr("停车 {0}").format(duration_words(fee.duration)))
            parts.extend(fee_line_words(line) for line in fee.lines)
            if stay is not None and stay.prepaid:
                parts.append(self.tr("已预付 {0} 元").format(f"{stay.prepaid:.2f}"))
        return " · ".join(parts)

    def _show_qr(self, url: str) -> None:
        self.qr_url = url
        if not url:
            self.qr.clear()
            self.qr.hide()
            return
        self.qr.setPixmap(QPixmap.fromImage(qr_image(url, QR_SIZE)))
        self.qr.setToolTip(url)
        self.qr.show()

    def _state_text(self, text: str, level: str) -> None:
        self.state_label.setText(text)
        self.state_label.setProperty("level", level)
        style = self.state_label.style()
        style.unpolish(self.state_label)
        style.polish(self.state_label)
