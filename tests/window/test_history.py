"""The history (F9): stays with the booths that let them in and out, the payments of the stay selected with the booth
that took each, and the gates opened by hand, over a real store."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from booth_app.core.types import ManualRelease, Payment, PaymentChannel, Role, Stay
from booth_app.store import Store
from booth_app.store.engine import sqlite_url
from booth_app.ui.history import HistoryDialog
from booth_app.ui.rows import RowsModel
from tests.helpers import until

T0 = datetime(2026, 11, 22, 0, 30, tzinfo=UTC)  # 08:30 in the park


def rows(model: RowsModel) -> list[list[str]]:
    return [[model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())]


def hidden(view) -> list[int]:
    return [column for column in range(view.model().columnCount()) if view.isColumnHidden(column)]


async def test_with_a_shared_store_every_row_names_its_booths(qtbot: QtBot, postgres) -> None:
    url = postgres.database()
    east, west = await Store.open(url, booth="east"), await Store.open(url, booth="west")
    try:
        await east.add_operator("wang", "x", Role.CASHIER, "王")
        await east.enter(Stay("A1_1", "京A12345", T0, "A1"))
        await east.prepay(Payment("A1_1", PaymentChannel.PREPAY, Decimal("2.00"), T0 + timedelta(hours=1), "T-9"))
        cash = Payment(
            "A1_1", PaymentChannel.CASH, Decimal("5"), T0 + timedelta(hours=2), operator="wang", lane_id="B2"
        )
        await west.leave("A1_1", left_at=T0 + timedelta(hours=2), exit_lane="B2", fee=Decimal(7), payments=[cash])
        await west.record_manual_release(ManualRelease("B2", "设备故障", T0, plate="京A12345"))
        dialog = HistoryDialog(east)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.reload()
        await until(lambda: dialog.payments.rowCount() == 2)
        assert rows(dialog.stays) == [
            ["京A12345", "临时车", "A1", "east", "2026-11-22 08:30:00", "B2", "west", "2026-11-22 10:30:00", "已出场"]
        ]
        assert dialog.payments_title.text() == "京A12345 的收费记录（2 笔）"
        assert rows(dialog.payments) == [
            ["2026-11-22 09:30:00", "场内预付", "2.00", "", "east", "", "T-9"],
            ["2026-11-22 10:30:00", "现金", "5.00", "B2", "west", "王", ""],
        ]
        assert rows(dialog.releases) == [["2026-11-22 08:30:00", "B2", "west", "远程", "设备故障", "", "京A12345", ""]]
        assert hidden(dialog.stays_view) == hidden(dialog.payments_view) == hidden(dialog.releases_view) == []
    finally:
        await east.close()
        await west.close()


async def test_a_booth_alone_shows_no_booth_columns_and_the_keys_pick_the_stay(qtbot: QtBot, tmp_path: Path) -> None:
    store = await Store.open(sqlite_url(tmp_path / "booth.db"), booth="booth01")
    try:
        await store.enter(Stay("A1_1", "京A12345", T0, "A1"))
        cash = Payment("A1_1", PaymentChannel.CASH, Decimal(5), T0 + timedelta(hours=1), operator="wang", lane_id="B1")
        await store.leave("A1_1", left_at=T0 + timedelta(hours=1), exit_lane="B1", fee=Decimal(5), payments=[cash])
        await store.enter(Stay("A2_2", "沪B54321", T0, "A2"))  # changed last: the newest row
        dialog = HistoryDialog(store)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.reload()
        await until(lambda: dialog.payments_title.text() == "沪B54321 没有收费记录")
        assert rows(dialog.stays)[0][:4] == ["沪B54321", "临时车", "A2", "booth01"]  # there, only not shown
        assert (hidden(dialog.stays_view), hidden(dialog.payments_view), hidden(dialog.releases_view)) == (
            [3, 6],
            [4],
            [2],
        )
        dialog.stays_view.setFocus()
        qtbot.keyClick(dialog.stays_view, Qt.Key.Key_Down)
        await until(lambda: dialog.payments.rowCount() == 1)
        assert dialog.payments_title.text() == "京A12345 的收费记录（1 笔）"
        assert rows(dialog.payments) == [["2026-11-22 09:30:00", "现金", "5.00", "B1", "booth01", "wang", ""]]
        dialog.search.setText("粤")
        dialog.reload()
        await until(lambda: dialog.stays.rowCount() == 0)
        await until(lambda: dialog.payments.rowCount() == 0)
        assert dialog.payments_title.text() == "选中一条停车记录，查看它的收费记录"
    finally:
        await store.close()
