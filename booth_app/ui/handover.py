"""The shift handover: the shift's report on screen, the cash the cashier counted, print or PDF, then confirm.

Keys: Enter confirms the handover, Ctrl+P prints, Ctrl+S saves a PDF into the reports folder, Esc cancels (the shift
goes on). The report is one HTML document, so the screen, the printer and the PDF show the same thing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from PySide6.QtCore import QBuffer, QCoreApplication, QIODevice, QRegularExpression, Signal
from PySide6.QtGui import (
    QKeySequence,
    QPageSize,
    QPdfWriter,
    QRegularExpressionValidator,
    QShortcut,
    QShowEvent,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.types import PaymentChannel, StayKind
from booth_app.lanes.staff import OnDuty, Staff, StaffError
from booth_app.store import StoreError
from booth_app.store.shift_report import ShiftReport
from booth_app.ui.tasks import async_slot

log = logging.getLogger(__name__)

CASH_PATTERN = r"\d{0,8}(\.\d{0,2})?"
_UNSAFE_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\s]+')


translate = QCoreApplication.translate  # under this name Qt's lupdate finds the strings to translate


def kind_names() -> dict[StayKind, str]:
    return {
        StayKind.TEMPORARY: translate("HandoverReport", "临时车"),
        StayKind.MONTH: translate("HandoverReport", "月卡车"),
        StayKind.WHITELIST: translate("HandoverReport", "白名单"),
        StayKind.UNPLATED: translate("HandoverReport", "无牌车"),
    }


def channel_names() -> dict[PaymentChannel, str]:
    return {
        PaymentChannel.WALLET: translate("HandoverReport", "无感支付"),
        PaymentChannel.SWEEPCODE: translate("HandoverReport", "付款码"),
        PaymentChannel.SCANCODE: translate("HandoverReport", "扫码支付"),
        PaymentChannel.ETC: translate("HandoverReport", "ETC"),
        PaymentChannel.PREPAY: translate("HandoverReport", "场内预付"),
    }


def _clock(moment: datetime) -> str:
    return f"{moment.astimezone(CHINA_STANDARD_TIME):%Y-%m-%d %H:%M:%S}"


def _yuan(amount: Decimal, *, signed: bool = False) -> str:
    return translate("HandoverReport", "{0} 元").format(f"{amount:+.2f}" if signed else f"{amount:.2f}")


def _table(headers: list[str], rows: list[list[str]], *, figures: bool = False) -> str:
    """A bordered table; `figures`: every column after the first holds numbers, aligned right."""

    def cell(column: int, text: str) -> str:
        align = ' align="right"' if figures and column > 0 else ""
        return f"<td{align}>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(text)}</th>" for text in headers)
    body = "".join("<tr>" + "".join(cell(i, text) for i, text in enumerate(row)) + "</tr>" for row in rows)
    return f'<table border="1" cellspacing="0" cellpadding="4" width="100%"><tr>{head}</tr>{body}</table>'


def _events(title: str, rows: list[list[str]]) -> list[str]:
    """A heading with the count, then the events (time, lane, plate, reason), or 无."""
    heading = "<h3>" + html.escape(title.format(len(rows))) + "</h3>"
    if not rows:
        return [heading, "<p>" + html.escape(translate("HandoverReport", "无")) + "</p>"]
    headers = [
        translate("HandoverReport", "时间"),
        translate("HandoverReport", "车道"),
        translate("HandoverReport", "车牌"),
        translate("HandoverReport", "原因"),
    ]
    return [heading, _table(headers, rows)]


def report_html(report: ShiftReport, park_name: str) -> str:
    """The report as one HTML document (Qt's rich-text subset), for the screen, the printer and the PDF."""
    kinds, channels = kind_names(), channel_names()
    title = (
        translate("HandoverReport", "{0} 交接班报表").format(park_name)
        if park_name
        else translate("HandoverReport", "交接班报表")
    )
    end_label = (
        translate("HandoverReport", "交班时间") if report.closed else translate("HandoverReport", "统计截至（未交班）")
    )
    facts = [
        (translate("HandoverReport", "岗亭"), report.booth or "—"),
        (translate("HandoverReport", "操作员"), f"{report.operator_name}（{report.username}）"),
        (translate("HandoverReport", "上班时间"), _clock(report.started_at)),
        (end_label, _clock(report.ended_at)),
    ]
    cars = [[kinds[kind], str(report.cars_in[kind]), str(report.cars_out[kind])] for kind in StayKind]
    cars.append(
        [translate("HandoverReport", "合计"), str(sum(report.cars_in.values())), str(sum(report.cars_out.values()))]
    )
    difference = report.cash_difference
    cash = [
        [translate("HandoverReport", "现金收入"), _yuan(report.cash_collected)],
        [
            translate("HandoverReport", "实收现金"),
            _yuan(report.cash_counted) if report.cash_counted is not None else translate("HandoverReport", "未清点"),
        ],
        [
            translate("HandoverReport", "差额（实收 − 收入）"),
            _yuan(difference, signed=True) if difference is not None else "—",
        ],
    ]
    electronic = [[channels[channel], str(t.count), _yuan(t.amount)] for channel, t in report.electronic.items()]
    total = report.electronic_total
    electronic.append([translate("HandoverReport", "合计"), str(total.count), _yuan(total.amount)])
    parts = [
        f"<h2>{html.escape(title)}</h2>",
        "<p>" + "<br>".join(f"{html.escape(name)}：{html.escape(value)}" for name, value in facts) + "</p>",
        "<h3>" + html.escape(translate("HandoverReport", "车辆进出")) + "</h3>",
        _table(
            [
                translate("HandoverReport", "车辆类型"),
                translate("HandoverReport", "入场"),
                translate("HandoverReport", "出场"),
            ],
            cars,
            figures=True,
        ),
        "<h3>" + html.escape(translate("HandoverReport", "现金")) + "</h3>",
        _table([translate("HandoverReport", "项目"), translate("HandoverReport", "金额")], cash, figures=True),
        "<h3>" + html.escape(translate("HandoverReport", "电子支付")) + "</h3>",
        _table(
            [
                translate("HandoverReport", "渠道"),
                translate("HandoverReport", "笔数"),
                translate("HandoverReport", "金额"),
            ],
            electronic,
            figures=True,
        ),
        *_events(
            translate("HandoverReport", "免费放行（{0} 次）"),
            [[_clock(f.released_at), f.lane_id, f.plate, f.reason] for f in report.free_releases],
        ),
        *_events(
            translate("HandoverReport", "人工抬杆（{0} 次）"),
            [[_clock(m.opened_at), m.lane_id, m.plate, m.reason] for m in report.manual_opens],
        ),
    ]
    if report.note:
        parts.append("<p>" + html.escape(translate("HandoverReport", "备注")) + f"：{html.escape(report.note)}</p>")
    parts.append(
        "<p><br>"
        + html.escape(translate("HandoverReport", "交班人签字：__________　　接班人签字：__________"))
        + "</p>"
    )
    return "\n".join(parts)


def report_document(report: ShiftReport, park_name: str) -> QTextDocument:
    document = QTextDocument()
    document.setHtml(report_html(report, park_name))
    return document


def default_pdf_name(report: ShiftReport) -> str:
    """交接班_<username>_<YYYYmmdd_HHMM>.pdf, in the park's time; a username is made safe for a file name."""
    who = _UNSAFE_IN_FILE_NAMES.sub("_", report.username).strip("._") or "operator"
    return f"交接班_{who}_{report.ended_at.astimezone(CHINA_STANDARD_TIME):%Y%m%d_%H%M}.pdf"


def report_pdf(report: ShiftReport, park_name: str) -> bytes:
    """The report as an A4 PDF, in memory (rendering needs the GUI thread; writing the file does not)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle(translate("HandoverReport", "交接班报表"))
    report_document(report, park_name).print_(writer)  # its painter's end writes the whole file
    buffer.close()
    return bytes(buffer.data().data())


def _free_path(path: Path) -> Path:
    """`path`, or the same name with _2, _3… when a report was saved under it already (never overwrite one)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_stem(f"{path.stem}_{number}")
    return candidate


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path = _free_path(path)
    path.write_bytes(data)
    return path


def save_report_pdf(report: ShiftReport, park_name: str, path: Path) -> Path:
    """Save the report as a PDF at `path` (or beside it, if that name is taken); returns where it went."""
    return _write(path, report_pdf(report, park_name))


def open_print_dialog(report: ShiftReport, park_name: str, parent: QWidget | None = None) -> QPrintDialog:
    """Ask where to print (opened with `open()`); the report prints when the cashier confirms."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(default_pdf_name(report).removesuffix(".pdf"))
    dialog = QPrintDialog(printer, parent)
    dialog.setObjectName("handover-print-dialog")
    dialog.accepted.connect(lambda: report_document(report, park_name).print_(printer))
    QDialog.open(dialog)  # QPrintDialog's own open() wants a receiver and a slot name
    return dialog


class HandoverDialog(QDialog):
    """Signals: `handed_over(report: ShiftReport)`: the shift has ended; the final report."""

    handed_over = Signal(object)

    def __init__(
        self, staff: Staff, on_duty: OnDuty, parent: QWidget | None = None, *, pdf_dir: Path, park_name: str = ""
    ) -> None:
        super().__init__(parent)
        self.setObjectName("handover-dialog")
        self.setWindowTitle(self.tr("交接班"))
        self.setModal(True)
        self.staff, self.on_duty, self.pdf_dir, self.park_name = staff, on_duty, pdf_dir, park_name
        self.report: ShiftReport | None = None
        self.saved: Path | None = None
        self.print_dialog: QPrintDialog | None = None
        self.busy = False
        self.view = QTextBrowser()
        self.view.setObjectName("handover-report")
        self.view.setPlaceholderText(self.tr("正在统计本班数据…"))
        self.cash = QLineEdit()
        self.cash.setObjectName("handover-cash")
        self.cash.setValidator(QRegularExpressionValidator(QRegularExpression(CASH_PATTERN), self.cash))
        self.cash.setPlaceholderText(self.tr("清点钱箱后填写，可不填"))
        self.note = QLineEdit()
        self.note.setObjectName("handover-note")
        self.status = QLabel("")
        self.status.setObjectName("handover-status")
        self.status.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("dialog-error")
        self.error.setProperty("level", "alarm")
        self.error.setWordWrap(True)
        self.error.hide()
        self.ok_button = QPushButton(self.tr("确认交班（回车）"))
        self.ok_button.setObjectName("handover-ok")
        self.ok_button.setDefault(True)
        self.print_button = QPushButton(self.tr("打印（Ctrl+P）"))
        self.print_button.setObjectName("handover-print")
        self.save_button = QPushButton(self.tr("保存 PDF（Ctrl+S）"))
        self.save_button.setObjectName("handover-save")
        buttons = QDialogButtonBox()
        buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText(self.tr("取消（Esc）"))
        buttons.accepted.connect(self.confirm)
        buttons.rejected.connect(self.reject)
        self.print_button.clicked.connect(self.print_report)
        self.save_button.clicked.connect(self.save_pdf)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Print), self, self.print_report)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.save_pdf)
        self.cash.textChanged.connect(self._show)
        self.note.textChanged.connect(self._show)
        form = QFormLayout()
        form.addRow(self.tr("实收现金（元）"), self.cash)
        form.addRow(self.tr("备注"), self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, stretch=1)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        chain = [self.cash, self.note, self.ok_button, self.print_button, self.save_button, self.cancel_button]
        for before, after in zip(chain, [*chain[1:], self.view], strict=True):
            self.setTabOrder(before, after)
        self.resize(760, 760)
        self.cash.setFocus()

    # ------------------------------------------------------------ the report

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.report is None and not self.busy:
            self.reload()

    @async_slot
    async def reload(self) -> None:
        """Count the shift so far."""
        try:
            self.report = await self.staff.report(self.on_duty)
        except StoreError as exc:
            self.show_error(str(exc))
            return
        self._show()

    def cash_counted(self) -> Decimal | None:
        """What the cashier typed, None when nothing; raises ValueError on a half-typed amount like '.'."""
        text = self.cash.text().strip()
        if not text:
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(self.tr("实收现金请填写金额，例如 120.50。")) from None

    def shown_report(self) -> ShiftReport | None:
        """The report as it stands, with the cash and note typed so far (what the screen, PDF and printer show)."""
        if self.report is None or self.report.closed:
            return self.report
        try:
            counted = self.cash_counted()
        except ValueError:
            counted = None
        return dataclasses.replace(self.report, cash_counted=counted, note=self.note.text().strip())

    def _show(self) -> None:
        report = self.shown_report()
        if report is not None:
            scrolled = self.view.verticalScrollBar().value()  # typing the cash must not jump back to the top
            self.view.setHtml(report_html(report, self.park_name))
            self.view.verticalScrollBar().setValue(scrolled)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # ------------------------------------------------------------ keys

    def print_report(self) -> None:
        if (report := self.shown_report()) is None:
            self.show_error(self.tr("报表还在统计中，请稍候。"))
            return
        self.print_dialog = open_print_dialog(report, self.park_name, self)
        self.print_dialog.finished.connect(self.activateWindow)  # the keys come back here, not to the main window

    @async_slot
    async def save_pdf(self) -> None:
        if (report := self.shown_report()) is None:
            self.show_error(self.tr("报表还在统计中，请稍候。"))
            return
        data = report_pdf(report, self.park_name)
        try:
            self.saved = await asyncio.to_thread(_write, self.pdf_dir / default_pdf_name(report), data)
        except OSError as exc:
            self.show_error(self.tr("PDF 未能保存到 {0}：{1}").format(str(self.pdf_dir), exc.strerror or str(exc)))
            return
        log.info("shift report saved as %s", self.saved)
        self.status.setText(self.tr("已保存 PDF：{0}").format(str(self.saved)))

    @async_slot
    async def confirm(self) -> None:
        if self.busy:
            return
        try:
            counted = self.cash_counted()
        except ValueError as exc:
            self.show_error(str(exc))
            self.cash.setFocus()
            return
        self.busy = True
        self.ok_button.setEnabled(False)
        try:
            final = await self.staff.hand_over(self.on_duty, cash_counted=counted, note=self.note.text())
        except StaffError as exc:
            self.show_error(str(exc))
            return
        finally:
            self.busy = False
            self.ok_button.setEnabled(True)
        self.report = final
        self._show()
        log.info("%s handed over shift %d", self.on_duty.operator.username, self.on_duty.shift_id)
        self.handed_over.emit(final)
        self.accept()
