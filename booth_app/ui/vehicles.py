"""The vehicle lists (month cards, whitelist, blacklist): look a car up, add, edit, expire, delete, import and export.

Only an admin changes the lists; a cashier may look and export. Every change goes to the store at once and the table
reloads from it, so what the table shows is what the lanes will decide by. The keys are the table `KEYS` (plus Enter
on a row, which edits it); the buttons say their key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Container
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from booth_app.core.decisions import CHINA_STANDARD_TIME
from booth_app.core.types import Vehicle, VehicleKind
from booth_app.core.vehicle_csv import (
    VehicleCsvError,
    check_period,
    read_day,
    read_plate,
    read_vehicles_csv,
    write_vehicles_csv,
)
from booth_app.store import Store
from booth_app.store.store import StoreError
from booth_app.ui.tasks import async_slot

# Action → keys. Enter on a row edits it too (the table's own `activated`).
KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("add", ("Ins", "Ctrl+N")),
    ("edit", ("F2",)),
    ("expire", ("Ctrl+E",)),
    ("delete", ("Del",)),
    ("import", ("Ctrl+I",)),
    ("export", ("Ctrl+O",)),
    ("search", ("Ctrl+F",)),
)
EDITING_ACTIONS = ("add", "edit", "expire", "delete", "import")
_STORE_ERRORS = (StoreError, OSError, SQLAlchemyError)  # what a full disk or a lost database server looks like

T = TypeVar("T")
W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """The widget with an object name, by which the theme and the tests find it."""
    widget.setObjectName(name)
    return widget


def set_level(widget: QWidget, level: str | None) -> None:
    widget.setProperty("level", level or "")
    widget.style().unpolish(widget)  # the stylesheet looks at the property only when the widget is polished
    widget.style().polish(widget)


def today_in_china() -> date:
    """Cards run by the calendar day where the car park is."""
    return datetime.now(CHINA_STANDARD_TIME).date()


def kind_names() -> dict[VehicleKind, str]:
    translate = QCoreApplication.translate
    return {
        VehicleKind.MONTH: translate("VehicleLists", "月卡"),
        VehicleKind.WHITELIST: translate("VehicleLists", "白名单"),
        VehicleKind.BLACKLIST: translate("VehicleLists", "黑名单"),
    }


class VehicleTableModel(QAbstractTableModel):
    """The vehicles in the store, one per row, with whether each is valid today."""

    VEHICLE_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vehicles: list[Vehicle] = []
        self._today = today_in_china()
        self._headers = [self.tr("车牌"), self.tr("类型"), self.tr("开始"), self.tr("结束"), self.tr("状态")]
        self._headers += [self.tr("车主"), self.tr("备注")]

    def set_vehicles(self, vehicles: list[Vehicle], today: date) -> None:
        self.beginResetModel()
        self._vehicles, self._today = list(vehicles), today
        self.endResetModel()

    def vehicle_at(self, row: int) -> Vehicle:
        return self._vehicles[row]

    def row_of(self, plate: str) -> int | None:
        return next((row for row, vehicle in enumerate(self._vehicles) if vehicle.plate == plate), None)

    def plates(self) -> frozenset[str]:
        return frozenset(vehicle.plate for vehicle in self._vehicles)

    def status(self, vehicle: Vehicle) -> str:
        if vehicle.valid_on(self._today):
            return self.tr("有效")
        return self.tr("未生效") if vehicle.valid_from > self._today else self.tr("已过期")

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._vehicles)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        vehicle = self._vehicles[index.row()]
        if role == self.VEHICLE_ROLE:
            return vehicle
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        valid_to = vehicle.valid_to.isoformat() if vehicle.valid_to is not None else ""
        cells = (vehicle.plate, kind_names()[vehicle.kind], vehicle.valid_from.isoformat(), valid_to)
        return (*cells, self.status(vehicle), vehicle.owner, vehicle.note)[index.column()]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None


class VehicleFilter(QSortFilterProxyModel):
    """Rows whose plate or owner contains the search text (any case), of one kind or all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._kind: VehicleKind | None = None

    def set_search(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_kind(self, kind: VehicleKind | None) -> None:
        self.beginFilterChange()
        self._kind = kind
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        assert isinstance(model, VehicleTableModel)
        vehicle = model.vehicle_at(source_row)
        if self._kind is not None and vehicle.kind != self._kind:
            return False
        return self._needle in vehicle.plate.casefold() or self._needle in vehicle.owner.casefold()


class VehicleEditDialog(QDialog):
    """Add a vehicle (`vehicle` None) or edit one (its plate stays: a different plate is a different entry).

    Saving checks every field and lists what is wrong under the form, one sentence each; `vehicle()` is the result.
    """

    def __init__(
        self,
        vehicle: Vehicle | None = None,
        *,
        taken: Container[str] = frozenset(),
        today: date | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vehicle-edit")
        self._editing = vehicle
        self._taken = taken
        self._result: Vehicle | None = None
        self.setWindowTitle(
            self.tr("添加车辆") if vehicle is None else self.tr("修改 {plate}").format(plate=vehicle.plate)
        )
        self.plate = self._line("vehicle-plate", vehicle.plate if vehicle else "", self.tr("如 京A12345"))
        self.plate.setReadOnly(vehicle is not None)
        self.kind = named(QComboBox(), "vehicle-kind")
        for kind, name in kind_names().items():
            self.kind.addItem(name, kind)
        self.kind.setCurrentIndex(self.kind.findData(vehicle.kind if vehicle else VehicleKind.MONTH))
        start = vehicle.valid_from if vehicle else (today or today_in_china())
        end = vehicle.valid_to.isoformat() if vehicle and vehicle.valid_to else ""
        self.valid_from = self._line("vehicle-valid-from", start.isoformat(), "YYYY-MM-DD")
        self.valid_to = self._line("vehicle-valid-to", end, self.tr("YYYY-MM-DD，不填为长期有效"))
        self.owner = self._line("vehicle-owner", vehicle.owner if vehicle else "", "")
        self.note = self._line("vehicle-note", vehicle.note if vehicle else "", "")
        self.errors = named(QLabel(wordWrap=True), "vehicle-edit-errors")
        set_level(self.errors, "alarm")
        self.errors.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("保存"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        buttons.button(QDialogButtonBox.StandardButton.Save).setDefault(True)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        for label, field in (
            (self.tr("车牌(&P)"), self.plate),
            (self.tr("类型(&K)"), self.kind),
            (self.tr("开始日期(&F)"), self.valid_from),
            (self.tr("结束日期(&T)"), self.valid_to),
            (self.tr("车主(&O)"), self.owner),
            (self.tr("备注(&N)"), self.note),
        ):
            form.addRow(label, field)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("0") * 48)  # room for a note, in any font size
        # A renewal is the usual edit: start on the end date, selected, so typing replaces it.
        first = self.plate if vehicle is None else self.valid_to
        first.setFocus()
        first.selectAll()

    def _line(self, name: str, text: str, placeholder: str) -> QLineEdit:
        line = named(QLineEdit(text), name)
        line.setPlaceholderText(placeholder)
        return line

    def vehicle(self) -> Vehicle:
        """The vehicle as saved; only after the dialog was accepted."""
        if self._result is None:
            raise RuntimeError("the vehicle dialog was not saved")
        return self._result

    def _save(self) -> None:
        problems: list[tuple[QWidget, str]] = []

        def read(field: QLineEdit, label: str, reader: Callable[[str], T]) -> T | None:
            try:
                return reader(field.text())
            except ValueError as exc:
                problems.append((field, label + str(exc)))
                return None

        plate = read(self.plate, self.tr("车牌："), read_plate)
        if self._editing is None and plate is not None and plate in self._taken:
            problems.append((self.plate, self.tr("车牌：{plate} 已在名单中，请在表中选中它修改").format(plate=plate)))
        valid_from = read(self.valid_from, self.tr("开始日期："), lambda raw: read_day(raw, required=True))
        valid_to = read(self.valid_to, self.tr("结束日期："), lambda raw: read_day(raw, required=False))
        if valid_from is not None and valid_to is not None:
            try:
                check_period(valid_from, valid_to)
            except ValueError as exc:
                problems.append((self.valid_to, str(exc)))  # it names both dates
        if problems or plate is None or valid_from is None:
            self.errors.setText("\n".join(text for _, text in problems))
            self.errors.show()
            problems[0][0].setFocus()
            return
        kind = VehicleKind(self.kind.currentData())
        self._result = Vehicle(plate, kind, valid_from, valid_to, self.owner.text().strip(), self.note.text().strip())
        self.accept()


class VehicleListsDialog(QDialog):
    """The three lists in one table, searchable by plate or owner and filtered by kind.

    `changed` is emitted after the table reloaded from the store (after any change, and at first show).
    """

    changed = Signal()

    def __init__(self, store: Store, *, can_edit: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vehicle-lists")
        self.setWindowTitle(self.tr("车辆名单"))
        self.resize(1000, 640)
        self.store = store
        self.can_edit = can_edit
        self._tasks: set[asyncio.Future[None]] = set()
        self._loaded = False
        self._last_folder = Path.home()

        self.search = named(QLineEdit(clearButtonEnabled=True), "vehicle-search")
        self.search.setPlaceholderText(self.tr("车牌或车主中的文字"))
        self.kind_filter = named(QComboBox(), "vehicle-kind-filter")
        self.kind_filter.addItem(self.tr("全部"), None)
        for kind, name in kind_names().items():
            self.kind_filter.addItem(name, kind)
        self.model = VehicleTableModel(self)
        self.rows = VehicleFilter(self)
        self.rows.setSourceModel(self.model)
        self.table = named(QTableView(), "vehicle-table")
        self.table.setModel(self.rows)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = named(QLabel(wordWrap=True), "vehicle-message")
        self.problems = named(QPlainTextEdit(readOnly=True), "vehicle-problems")
        self.problems.hide()

        handlers: dict[str, Callable[[], None]] = {
            "add": self.add,
            "edit": self.edit_selected,
            "expire": self.expire_selected,
            "delete": self.delete_selected,
            "import": self.ask_import,
            "export": self.ask_export,
            "search": self.search.setFocus,
        }
        titles = {
            "add": self.tr("添加"),
            "edit": self.tr("修改"),
            "expire": self.tr("设为过期"),
            "delete": self.tr("删除"),
            "import": self.tr("导入"),
            "export": self.tr("导出"),
        }
        self.buttons: dict[str, QPushButton] = {}
        button_row = QHBoxLayout()
        for action, keys in KEYS:
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self, handlers[action])
                shortcut.setAutoRepeat(False)  # a held key asks once
            if action in titles:
                shown = QKeySequence(keys[0]).toString(QKeySequence.SequenceFormat.NativeText)
                button = named(QPushButton(f"{titles[action]} ({shown})"), f"vehicle-{action}")
                button.setAutoDefault(False)  # no default button: see keyPressEvent
                button.clicked.connect(handlers[action])
                button.setEnabled(can_edit or action not in EDITING_ACTIONS)
                button_row.addWidget(button)
                self.buttons[action] = button
        close = named(QPushButton(self.tr("关闭 (Esc)")), "vehicle-close")
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        button_row.addStretch()
        button_row.addWidget(close)

        search_row = QHBoxLayout()
        for label, field in ((self.tr("搜索(&S)"), self.search), (self.tr("类型(&K)"), self.kind_filter)):
            caption = QLabel(label)
            caption.setBuddy(field)
            search_row.addWidget(caption)
            search_row.addWidget(field, stretch=1 if field is self.search else 0)
        layout = QVBoxLayout(self)
        layout.addLayout(search_row)
        layout.addWidget(self.table, stretch=1)
        layout.addWidget(self.message)
        layout.addWidget(self.problems)
        layout.addLayout(button_row)

        self.search.textChanged.connect(self.rows.set_search)
        self.search.returnPressed.connect(self.table.setFocus)
        self.kind_filter.currentIndexChanged.connect(lambda _: self.rows.set_kind(self.kind_filter.currentData()))
        self.rows.rowsRemoved.connect(self._keep_a_row)  # a search hid the row the keyboard was on
        self.rows.rowsInserted.connect(self._keep_a_row)
        self.table.activated.connect(lambda _: self.edit_selected())
        self.table.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # QDialog would press the default button of any dialog this one has open (it searches its children), so the
        # Enter that opened an edit dialog would save it at once. Here Enter edits (the table) or presses the focused
        # button, nothing else.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if isinstance(button := QApplication.focusWidget(), QPushButton) and self.isAncestorOf(button):
                button.click()
            event.accept()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self._track(self.reload())

    # ------------------------------------------------------------ what the keys do

    def add(self) -> None:
        if self._may_edit():
            self._edit(None)

    def edit_selected(self) -> None:
        vehicle = self._selected() if self._may_edit() else None
        if vehicle is not None:
            self._edit(vehicle)

    def expire_selected(self) -> None:
        vehicle = self._selected() if self._may_edit() else None
        if vehicle is None:
            return
        today = today_in_china()
        if vehicle.valid_to is not None and vehicle.valid_to < today:
            self.say(self.tr("{plate} 已经过期了").format(plate=vehicle.plate), "warning")
            return
        yesterday = today - timedelta(days=1)
        expired = replace(vehicle, valid_from=min(vehicle.valid_from, yesterday), valid_to=yesterday)
        question = self.tr("让 {plate}（{kind}）从今天起失效？结束日期将改为 {day}。")
        self._confirm(
            question.format(plate=vehicle.plate, kind=kind_names()[vehicle.kind], day=yesterday.isoformat()),
            self.tr("设为过期"),
            lambda: self._track(self._put([expired], self.tr("{plate} 已设为过期").format(plate=vehicle.plate))),
        )

    def delete_selected(self) -> None:
        vehicle = self._selected() if self._may_edit() else None
        if vehicle is None:
            return
        self._confirm(
            self.tr("从{kind}中删除 {plate}？").format(plate=vehicle.plate, kind=kind_names()[vehicle.kind]),
            self.tr("删除"),
            lambda: self._track(self._remove(vehicle.plate)),
        )

    def ask_import(self) -> None:
        if self._may_edit():
            self.ask_path(self.tr("导入车辆名单"), save=False, then=lambda path: self._track(self.import_csv(path)))

    def ask_export(self) -> None:
        self.ask_path(self.tr("导出车辆名单"), save=True, then=lambda path: self._track(self.export_csv(path)))

    def ask_path(self, title: str, *, save: bool, then: Callable[[Path], object]) -> None:
        """Ask for a CSV file, then call `then` with it (not at all if the person cancels).

        Qt's own dialog rather than the system's: it follows the app's large-text theme and works the same everywhere.
        """
        dialog = QFileDialog(self, title, str(self._last_folder))
        dialog.setObjectName("vehicle-file")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.setNameFilters([self.tr("CSV 文件 (*.csv)"), self.tr("所有文件 (*)")])
        if save:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("csv")
            dialog.selectFile(self.tr("车辆名单-{day}.csv").format(day=today_in_china().strftime("%Y%m%d")))
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)

        def chosen(name: str) -> None:
            path = Path(name)
            self._last_folder = path.parent
            then(path)

        dialog.fileSelected.connect(chosen)
        self._open(dialog)

    # ------------------------------------------------------------ work with the store

    @async_slot
    async def reload(self, select: str | None = None) -> None:
        """Read the lists again and keep the selected plate (or `select`) selected."""
        await self._load(select)

    async def _load(self, select: str | None = None) -> None:
        keep = select or (vehicle.plate if (vehicle := self._selected(quiet=True)) else None)
        try:
            vehicles = await self.store.vehicles()
        except _STORE_ERRORS as exc:
            self.say(self.tr("读不出车辆名单：{error}").format(error=exc), "alarm")
            return
        self.model.set_vehicles(vehicles, today_in_china())
        row = self.model.row_of(keep) if keep else None
        index = self.rows.mapFromSource(self.model.index(row, 0)) if row is not None else self.rows.index(0, 0)
        if index.isValid():
            self.table.selectRow(index.row())
        self.changed.emit()

    @async_slot
    async def import_csv(self, path: Path) -> None:
        """Check a whole file; list its problems and take nothing, or say what it would change and ask."""
        if not self._may_edit():
            return
        try:
            vehicles = await asyncio.to_thread(read_vehicles_csv, path)
            existing = {vehicle.plate for vehicle in await self.store.vehicles()}
        except VehicleCsvError as exc:
            count = len(exc.problems)
            self.say(self.tr("{name} 有 {count} 处问题，一辆也没有导入：").format(name=path.name, count=count), "alarm")
            self.problems.setPlainText("\n".join(exc.problems))
            self.problems.show()
            return
        except _STORE_ERRORS as exc:
            self.say(self.tr("读不出车辆名单：{error}").format(error=exc), "alarm")
            return
        if not vehicles:
            self.say(self.tr("{name} 里没有车辆").format(name=path.name), "warning")
            return
        replacing = sum(vehicle.plate in existing for vehicle in vehicles)
        question = self.tr("从 {name} 导入 {count} 辆车：新增 {new} 辆，替换已有的 {replacing} 辆。")
        done = self.tr("已从 {name} 导入 {count} 辆车").format(name=path.name, count=len(vehicles))
        self._confirm(
            question.format(name=path.name, count=len(vehicles), new=len(vehicles) - replacing, replacing=replacing),
            self.tr("导入"),
            lambda: self._track(self._put(vehicles, done)),
        )

    @async_slot
    async def export_csv(self, path: Path) -> None:
        """Write every vehicle of the lists (whatever the search shows) to a CSV file that Excel opens."""
        try:
            vehicles = await self.store.vehicles()
        except _STORE_ERRORS as exc:
            self.say(self.tr("读不出车辆名单：{error}").format(error=exc), "alarm")
            return
        try:
            await asyncio.to_thread(write_vehicles_csv, path, vehicles)
        except OSError as exc:
            self.say(self.tr("写不了文件 {path}：{error}").format(path=path, error=exc.strerror or exc), "alarm")
            return
        self.say(self.tr("已导出 {count} 辆车到 {path}").format(count=len(vehicles), path=path), "ok")

    @async_slot
    async def _put(self, vehicles: list[Vehicle], done: str) -> None:
        if not self._may_edit():  # every change comes through here or `_remove`: the one place that must refuse
            return
        try:
            await self.store.put_vehicles(vehicles)
        except _STORE_ERRORS as exc:
            self.say(self.tr("没有保存：{error}").format(error=exc), "alarm")
            return
        await self._load(select=vehicles[0].plate if len(vehicles) == 1 else None)
        self.say(done, "ok")

    @async_slot
    async def _remove(self, plate: str) -> None:
        if not self._may_edit():
            return
        try:
            await self.store.remove_vehicle(plate)
        except _STORE_ERRORS as exc:
            self.say(self.tr("没有删除：{error}").format(error=exc), "alarm")
            return
        await self._load()
        self.say(self.tr("已删除 {plate}").format(plate=plate), "ok")

    # ------------------------------------------------------------ helpers

    def say(self, text: str, level: str | None = None) -> None:
        """One line under the table, replacing the last one and any list of file problems.

        `level` colours it through the theme's `level` property: "alarm" when something was not done, "ok" when it was.
        """
        self.message.setText(text)
        set_level(self.message, level)
        self.problems.hide()

    def _may_edit(self) -> bool:
        if not self.can_edit:
            self.say(self.tr("只有管理员可以修改车辆名单"), "warning")
        return self.can_edit

    def _selected(self, *, quiet: bool = False) -> Vehicle | None:
        """The vehicle on the table's current row (the keyboard's)."""
        index = self.table.currentIndex()
        if not index.isValid():
            if not quiet:
                self.say(self.tr("请先在表中选中一辆车"), "warning")
            return None
        return self.model.vehicle_at(self.rows.mapToSource(index).row())

    def _keep_a_row(self) -> None:
        if not self.table.currentIndex().isValid() and self.rows.rowCount() > 0:
            self.table.selectRow(0)

    def _edit(self, vehicle: Vehicle | None) -> None:
        dialog = VehicleEditDialog(vehicle, taken=self.model.plates(), today=today_in_china(), parent=self)
        verb = self.tr("已添加 {plate}") if vehicle is None else self.tr("已修改 {plate}")
        dialog.accepted.connect(
            lambda: self._track(self._put([dialog.vehicle()], verb.format(plate=dialog.vehicle().plate)))
        )
        self._open(dialog)

    def _confirm(self, question: str, action: str, then: Callable[[], object]) -> None:
        """Ask before a change: Enter confirms, Esc leaves everything as it is."""
        box = QMessageBox(QMessageBox.Icon.Question, self.windowTitle(), question, parent=self)
        box.setObjectName("vehicle-confirm")
        yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.setEscapeButton(box.addButton(self.tr("取消"), QMessageBox.ButtonRole.RejectRole))
        box.setDefaultButton(yes)

        def answered() -> None:
            if box.clickedButton() is yes:
                then()

        box.finished.connect(answered)
        self._open(box)

    def _open(self, child: QDialog) -> None:
        """Open a dialog over this one; when it closes, the keyboard is back on the table."""

        def closed() -> None:
            child.deleteLater()
            self.activateWindow()
            self.table.setFocus()

        child.finished.connect(closed)
        child.open()

    def _track(self, task: object) -> None:
        """Keep a reference to each task an async slot started, until it is done (the loop holds only weak ones)."""
        assert isinstance(task, asyncio.Future)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
