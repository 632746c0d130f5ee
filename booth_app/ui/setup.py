"""The first start: with no configuration file yet, this screen asks for the park, Bolink and the lanes and writes one.

What it would write is checked by the rules of `booth-app check-config` before anything touches the disk; the
problems are listed under the form, one line each naming its key, the first wrong field gets the keyboard, and
everything typed stays. The Bolink ukey never goes into the file: typed here it is kept in the OS keyring, left
empty it is read from the environment variable. Enter saves, Esc cancels, Ctrl+N adds a lane.

`first_setup(path)` shows the screen and returns the settings it wrote, or None when it was cancelled.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication, QIntValidator, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from booth_app.config import (
    BOLINK_SDK_URL,
    BOLINK_UNION_API_URL,
    CameraListenerConfig,
    ConfigError,
    ConfigProblem,
    KeyringUnavailable,
    ParkConfig,
    Settings,
    parse_settings,
    store_ukey,
)
from booth_app.config_file import config_text, first_config, write_config
from booth_app.ui.tasks import async_slot
from booth_app.ui.theme import set_level
from drivers.serial_link import present_ports

log = logging.getLogger(__name__)

BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
DEFAULT_BAUD_RATE = 9600
PROBLEM_LINES = 5
LANE_KEY = re.compile(r"lanes\[(\d+)\]\.(.+)")


def proposed_port(number: int) -> str:
    """The usual name of the number-th USB serial adapter (COM1 and COM2 are a PC's own ports on Windows)."""
    return f"COM{3 + number}" if os.name == "nt" else f"/dev/ttyUSB{number}"


def proposed_local_id() -> str:
    """This PC's name: one per booth, as Bolink's local_id must be."""
    name = re.sub(r"[^A-Za-z0-9_-]", "", socket.gethostname())[:64]
    return name or "booth01"


def _changed(widget: QWidget) -> Any:
    """The signal a field sends when the person edits it."""
    if isinstance(widget, QLineEdit):
        return widget.textChanged
    if isinstance(widget, QComboBox):
        return widget.currentTextChanged
    raise TypeError(f"{type(widget).__name__} is not a setup field")


def _whole(name: str, value: int, low: int, high: int) -> QLineEdit:
    """A whole number, its default shown in grey when the field is emptied (the file then leaves it to the default).

    Not a QSpinBox: under the theme's stylesheet Qt draws its arrows badly, and without them not its text at all.
    """
    line = _line(name, str(value), str(value))
    line.setValidator(QIntValidator(low, high, line))
    return line


def _line(name: str, text: str = "", placeholder: str = "") -> QLineEdit:
    line = QLineEdit(text)
    line.setObjectName(name)
    line.setPlaceholderText(placeholder)
    return line


def _port(name: str, text: str, ports: list[str]) -> QComboBox:
    """A serial port: the ports present to pick from, or any pyserial name typed (socket://host:port too)."""
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(ports)
    combo.setCurrentText(text)
    return combo


def _baud(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for rate in BAUD_RATES:
        combo.addItem(str(rate), rate)
    combo.setCurrentIndex(BAUD_RATES.index(DEFAULT_BAUD_RATE))
    return combo


def _number(field: QLineEdit) -> int | str | None:
    """A whole number typed; None when left empty (the check then says the key is missing, or the default applies);
    the text itself when it is no number after all (a lone "+"), for the check to name."""
    text = field.text().strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


class LaneEditor(QGroupBox):
    """One lane: its name and direction, camera, display board and barrier (only the chosen kind's fields show)."""

    def __init__(
        self,
        lane_id: str,
        name: str,
        direction: str,
        display_port: str,
        ports: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.fields: dict[str, tuple[QWidget, str]] = {}  # key below the lane ("camera.serialno") -> field, label
        self.captions: dict[QWidget, QLabel] = {}
        self.proposed = (lane_id, name)  # what the screen proposed: changed with the direction until edited
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(8)
        self.lane_id = self._add(grid, 0, 0, "id", self.tr("编号"), _line("lane-id", lane_id))
        self.lane_id.setMaxLength(16)
        self.name = self._add(grid, 0, 1, "name", self.tr("名称"), _line("lane-name", name))
        self.direction = QComboBox()
        self.direction.setObjectName("lane-direction")
        self.direction.addItem(self.tr("入口"), "in")
        self.direction.addItem(self.tr("出口"), "out")
        self.direction.setCurrentIndex(self.direction.findData(direction))
        self._add(grid, 0, 2, "direction", self.tr("方向"), self.direction)
        self.lane_no = self._add(grid, 1, 0, "lane_no", self.tr("ETC 车道号"), _line("lane-no", "", self.tr("可不填")))
        self.serialno = self._add(grid, 1, 1, "camera.serialno", self.tr("相机序列号"), _line("camera-serialno"))
        self.ip = self._add(grid, 1, 2, "camera.ip", self.tr("相机 IP"), _line("camera-ip", "", self.tr("可不填")))
        self.rtsp = self._add(
            grid, 2, 0, "camera.rtsp", self.tr("视频地址"), _line("camera-rtsp", "", "rtsp://…  " + self.tr("可不填"))
        )
        grid.addWidget(self.rtsp, 2, 1, 1, 5)
        self.display_port = self._add(
            grid, 3, 0, "display.port", self.tr("显示屏串口"), _port("display-port", display_port, ports)
        )
        self.display_baudrate = self._add(grid, 3, 1, "display.baudrate", self.tr("波特率"), _baud("display-baudrate"))
        self.display_address = self._add(
            grid, 3, 2, "display.address", self.tr("屏地址"), _whole("display-address", 0, 0, 255)
        )
        self.barrier_kind = QComboBox()
        self.barrier_kind.setObjectName("barrier-kind")
        self.barrier_kind.addItem(self.tr("显示屏继电器"), "display_relay")
        self.barrier_kind.addItem(self.tr("Modbus 继电器板"), "modbus")
        self.barrier_kind.addItem(self.tr("相机 IO 输出"), "camera_io")
        self._add(grid, 4, 0, "barrier.kind", self.tr("道闸"), self.barrier_kind)
        self.relay = self._add(grid, 4, 1, "barrier.relay", self.tr("继电器"), _whole("barrier-relay", 1, 0, 255))
        self.io = self._add(grid, 4, 1, "barrier.io", self.tr("IO 输出"), _whole("barrier-io", 0, 0, 7))
        self.modbus_port = self._add(
            grid, 4, 1, "barrier.port", self.tr("继电器串口"), _port("barrier-port", "", ports)
        )
        self.modbus_port.lineEdit().setPlaceholderText(self.tr("如 {0}").format(proposed_port(2)))
        self.modbus_baudrate = self._add(grid, 4, 2, "barrier.baudrate", self.tr("波特率"), _baud("barrier-baudrate"))
        self.device_id = self._add(
            grid, 5, 1, "barrier.device_id", self.tr("设备地址"), _whole("barrier-device-id", 1, 0, 247)
        )
        self.coil = self._add(grid, 5, 2, "barrier.coil", self.tr("线圈"), _whole("barrier-coil", 0, 0, 65535))
        self.pages: dict[str, tuple[QWidget, ...]] = {
            "display_relay": (self.relay,),
            "modbus": (self.modbus_port, self.modbus_baudrate, self.device_id, self.coil),
            "camera_io": (self.io,),
        }
        self.remove = QPushButton(self.tr("删除此车道"))
        self.remove.setObjectName("lane-remove")
        grid.addWidget(self.remove, 5, 4, 1, 2, Qt.AlignmentFlag.AlignRight)
        for column in (1, 3, 5):  # three fields a row, equally wide whatever their own size hints say
            grid.setColumnStretch(column, 1)
            grid.setColumnMinimumWidth(column, self.fontMetrics().horizontalAdvance("0") * 12)
        self.barrier_kind.currentIndexChanged.connect(self._show_barrier_fields)
        self._show_barrier_fields()

    def _add(self, grid: QGridLayout, row: int, pair: int, key: str, label: str, field: Any) -> Any:
        caption = QLabel(label)
        caption.setBuddy(field)
        grid.addWidget(caption, row, pair * 2)
        grid.addWidget(field, row, pair * 2 + 1)
        field.setSizePolicy(QSizePolicy.Policy.Ignored, field.sizePolicy().verticalPolicy())
        self.captions[field] = caption
        self.fields[key] = (field, label)
        return field

    def _show_barrier_fields(self) -> None:
        kind = self.barrier_kind.currentData()
        for page, fields in self.pages.items():
            for field in fields:
                field.setVisible(page == kind)
                self.captions[field].setVisible(page == kind)

    def set_number(self, index: int, removable: bool) -> None:
        """The lane's place in the list: its title says the key the problems use (lanes[0] is lane 1)."""
        self.setTitle(self.tr("车道 {0}（lanes[{1}]）").format(index + 1, index))
        self.remove.setEnabled(removable)

    def focus_chain(self) -> list[QWidget]:
        """The fields in the order they show (the barrier fields of every kind: Tab skips the hidden ones)."""
        return [field for field, _ in self.fields.values()] + [self.remove]

    def values(self) -> dict[str, Any]:
        """The lane as the configuration file has it."""
        kind = self.barrier_kind.currentData()
        barrier: dict[str, Any] = {"kind": kind}
        if kind == "display_relay":
            barrier["relay"] = _number(self.relay)
        elif kind == "modbus":
            barrier |= {"port": self.modbus_port.currentText().strip(), "baudrate": self.modbus_baudrate.currentData(),
                        "device_id": _number(self.device_id), "coil": _number(self.coil)}  # fmt: skip
        else:
            barrier["io"] = _number(self.io)
        return {
            "id": self.lane_id.text().strip(),
            "name": self.name.text().strip(),
            "direction": self.direction.currentData(),
            "lane_no": self.lane_no.text().strip(),
            "camera": {
                "vendor": "zhenshi",
                "serialno": self.serialno.text().strip(),
                "ip": self.ip.text().strip() or None,
                "rtsp": self.rtsp.text().strip(),
            },
            "display": {
                "port": self.display_port.currentText().strip(),
                "baudrate": self.display_baudrate.currentData(),
                "address": _number(self.display_address),
            },
            "barrier": barrier,
        }


class SetupDialog(QDialog):
    """Park, Bolink and lanes in one screen; Save writes the file once the check finds nothing wrong.

    `settings` is what was written (None until then).
    """

    def __init__(self, config_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("setup-dialog")
        self.setWindowTitle(self.tr("Booth 首次设置"))
        self.setModal(True)
        self.config_path = config_path
        self.settings: Settings | None = None
        self.busy = False
        self.ports = present_ports()  # offered in the port fields; any other pyserial name may be typed
        self.fields: dict[str, tuple[QWidget, str]] = {}  # key -> field, label (the lanes' own are in the lanes)
        self.marked: list[QWidget] = []
        self.lanes: list[LaneEditor] = []

        heading = QLabel(self.tr("首次使用：设置本岗亭"))
        heading.setObjectName("dialog-heading")
        intro = QLabel(
            self.tr(
                "还没有配置文件。填好车场、泊链和车道后保存，配置写入 {0}，然后启动。"
                "收费标准等其余设置先用默认值，以后可在该文件中修改。"
            ).format(config_path)
        )
        intro.setObjectName("setup-intro")
        intro.setWordWrap(True)

        self.lane_list = QVBoxLayout()
        self.lane_list.setSpacing(8)
        self.add_lane_button = QPushButton(self.tr("添加车道（Ctrl+N）"))
        self.add_lane_button.setObjectName("lane-add")
        self.add_lane_button.clicked.connect(self.add_lane)
        QShortcut(QKeySequence("Ctrl+N"), self, self.add_lane).setAutoRepeat(False)
        park = self._park_group()
        default_port = CameraListenerConfig().port
        self.camera_port = self._register(
            "camera_listener.port", self.tr("相机推送端口"), _whole("camera-port", default_port, 1, 65535)
        )
        listener = QHBoxLayout()
        for widget in self._captioned(self.camera_port, self.tr("相机推送端口")):
            listener.addWidget(widget)
        listener_hint = QLabel(self.tr("各车道的车牌相机把识别结果推送到本机的这个端口"))
        listener_hint.setProperty("small", True)
        listener.addWidget(listener_hint, stretch=1)
        lanes = QVBoxLayout()
        lanes.addLayout(listener)
        lanes.addLayout(self.lane_list)
        lanes.addWidget(self.add_lane_button, alignment=Qt.AlignmentFlag.AlignLeft)
        lanes.addStretch(1)
        columns = QHBoxLayout()
        columns.addWidget(park, stretch=0, alignment=Qt.AlignmentFlag.AlignTop)
        columns.addLayout(lanes, stretch=1)
        body = QWidget()
        body.setObjectName("setup-body")
        body.setLayout(columns)
        self.body_area = QScrollArea()
        self.body_area.setObjectName("setup-scroll")
        self.body_area.setWidgetResizable(True)
        self.body_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body_area.setWidget(body)

        self.error = QLabel("")
        self.error.setObjectName("dialog-error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_level(self.error, "alarm")
        self.error_area = QScrollArea()
        self.error_area.setObjectName("setup-problems")
        self.error_area.setWidgetResizable(True)
        self.error_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.error_area.setWidget(self.error)
        self.error_area.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.error_area.hide()

        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton(self.tr("保存并启动（回车）"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("setup-save")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("setup-cancel")
        self.cancel_button.setText(self.tr("取消（Esc）"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        self.language = QComboBox()
        self.language.setObjectName("ui-language")
        self.language.addItem("中文", "zh")
        self.language.addItem("English", "en")
        self._register("ui.language", self.tr("界面语言"), self.language)
        footer = QHBoxLayout()
        for widget in self._captioned(self.language, self.tr("界面语言")):
            footer.addWidget(widget)
        footer.addStretch(1)
        footer.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.body_area, stretch=1)
        layout.addWidget(self.error_area)
        layout.addLayout(footer)
        self.save_button.setDefault(True)  # once in the dialog: set before, the dialog would pick its own default

        self.add_lane(direction="in", focus=False)
        self.add_lane(direction="out", focus=False)
        self._fit_screen()
        self.park_id.setFocus()

    # ------------------------------------------------------------ the form

    def _park_group(self) -> QGroupBox:
        group = QGroupBox(self.tr("车场与泊链"))
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        def add(key: str, label: str, field: Any) -> Any:
            form.addRow(label, field)
            return self._register(key, label, field)

        numbers = QIntValidator(1, 2**31 - 1, self)
        self.park_id = add("park.park_id", self.tr("车场编号 park_id"), _line("park-id", "", self.tr("泊链分配")))
        self.union_id = add("park.union_id", self.tr("平台编号 union_id"), _line("union-id", "", self.tr("泊链分配")))
        self.union_id.setValidator(numbers)
        self.park_name = add("park.name", self.tr("车场名称"), _line("park-name"))
        self.capacity = add("park.capacity", self.tr("车位数"), _line("park-capacity"))
        self.capacity.setValidator(numbers)
        self.local_id = add("bolink.local_id", self.tr("岗亭编号 local_id"), _line("local-id", proposed_local_id()))
        self.sdk_url = add("bolink.sdk_url", self.tr("泊链 SDK 地址"), _line("sdk-url", BOLINK_SDK_URL))
        self.union_api_url = add(
            "bolink.union_api_url", self.tr("泊链接口地址"), _line("union-api-url", BOLINK_UNION_API_URL)
        )
        self.ukey = _line("ukey", "", self.tr("可不填"))
        self.ukey.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("泊链 ukey"), self.ukey)
        env = ParkConfig.model_fields["ukey_env"].default
        ukey_hint = QLabel(
            self.tr("ukey 不写入配置文件：填写则存入本机系统密钥库，不填则从环境变量 {0} 读取。").format(env)
        )
        ukey_hint.setObjectName("ukey-hint")
        ukey_hint.setProperty("small", True)
        ukey_hint.setWordWrap(True)
        form.addRow(ukey_hint)
        # As wide as the longest label beside Bolink's longer address shown whole; the lanes take the width left.
        metrics = self.fontMetrics()
        labels = max(metrics.horizontalAdvance(label) for _, label in self.fields.values())
        group.setFixedWidth(labels + metrics.horizontalAdvance(BOLINK_UNION_API_URL + "0000") + 48)
        group.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        return group

    def _register(self, key: str, label: str, field: Any) -> Any:
        """A field whose key the problems may name; editing it takes its problem mark away."""
        self.fields[key] = (field, label)
        _changed(field).connect(lambda *_: self._unmark(field))
        return field

    @staticmethod
    def _captioned(field: QWidget, label: str) -> tuple[QLabel, QWidget]:
        caption = QLabel(label)
        caption.setBuddy(field)
        return caption, field

    def _fit_screen(self) -> None:
        """As big as a 1366x768 screen allows (less the taskbar), no bigger than the screen it opens on."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        width, height = min(1340, available.width()), min(700, available.height() - 32)
        self.resize(width, height)

    def add_lane(self, *, direction: str = "in", focus: bool = True) -> LaneEditor:
        """A new lane under the others, with an id, name and board port proposed."""
        lane_id, name = self.proposed_names(direction, None)
        editor = LaneEditor(lane_id, name, direction, proposed_port(len(self.lanes)), self.ports)
        editor.setObjectName(f"lane-{len(self.lanes)}")
        for field, _ in editor.fields.values():
            _changed(field).connect(lambda *_, field=field: self._unmark(field))
        editor.direction.currentIndexChanged.connect(lambda _: self._direction_changed(editor))
        editor.remove.clicked.connect(lambda: self.remove_lane(editor))
        self.lanes.append(editor)
        self.lane_list.addWidget(editor)
        editor.show()  # now, not when the layout gets round to it: the keyboard goes there next
        self._renumber()
        if focus:
            editor.lane_id.setFocus()
            editor.lane_id.selectAll()
            self._show_focused(editor.lane_id)
        return editor

    def remove_lane(self, editor: LaneEditor) -> None:
        if len(self.lanes) <= 1 or editor not in self.lanes:
            return
        index = self.lanes.index(editor)
        self.lanes.remove(editor)
        self.marked = [field for field in self.marked if not editor.isAncestorOf(field)]
        editor.hide()
        editor.deleteLater()
        self._renumber()
        following = self.lanes[min(index, len(self.lanes) - 1)]
        following.lane_id.setFocus()
        self._show_focused(following.lane_id)

    def proposed_names(self, direction: str, editor: LaneEditor | None) -> tuple[str, str]:
        """The first free id of the direction (A1, A2 … in; B1, B2 … out) and a name to go with it."""
        taken = {lane.lane_id.text().strip() for lane in self.lanes if lane is not editor}
        prefix = "A" if direction == "in" else "B"
        number = next(number for number in itertools.count(1) if f"{prefix}{number}" not in taken)
        if direction == "in":
            name = self.tr("入口") if number == 1 else self.tr("入口 {0}").format(number)
        else:
            name = self.tr("出口") if number == 1 else self.tr("出口 {0}").format(number)
        return f"{prefix}{number}", name

    def _direction_changed(self, editor: LaneEditor) -> None:
        if (editor.lane_id.text(), editor.name.text()) != editor.proposed:
            return  # the person named the lane: keep it
        lane_id, name = self.proposed_names(editor.direction.currentData(), editor)
        editor.proposed = (lane_id, name)
        editor.lane_id.setText(lane_id)
        editor.name.setText(name)

    def _renumber(self) -> None:
        for index, editor in enumerate(self.lanes):
            editor.set_number(index, removable=len(self.lanes) > 1)
        park = [field for field, _ in self.fields.values() if field not in (self.camera_port, self.language)]
        chain: list[QWidget] = [*park, self.ukey, self.camera_port]
        for editor in self.lanes:
            chain += editor.focus_chain()
        chain += [self.add_lane_button, self.language, self.save_button, self.cancel_button]
        for before, after in itertools.pairwise(chain):
            self.setTabOrder(before, after)

    def focusNextPrevChild(self, forward: bool) -> bool:
        moved = super().focusNextPrevChild(forward)
        self._show_focused(self.focusWidget())
        return moved

    def _show_focused(self, widget: QWidget | None) -> None:
        body = self.body_area.widget()
        if widget is not None and body is not None and body.isAncestorOf(widget):
            self.body_area.ensureWidgetVisible(widget, 8, 24)

    # ------------------------------------------------------------ saving

    def answers(self) -> dict[str, Any]:
        """What the screen asks, shaped like the configuration file."""
        return {
            "park": {
                "park_id": self.park_id.text().strip(),
                "union_id": _number(self.union_id),
                "name": self.park_name.text().strip(),
                "capacity": _number(self.capacity),
            },
            "bolink": {
                "sdk_url": self.sdk_url.text().strip(),
                "union_api_url": self.union_api_url.text().strip(),
                "local_id": self.local_id.text().strip(),
            },
            "camera_listener": {"port": _number(self.camera_port)},
            "lanes": [editor.values() for editor in self.lanes],
            "ui": {"language": self.language.currentData()},
        }

    def field_of(self, key: str) -> tuple[QWidget, str] | None:
        """The field a problem's key names, with its label (the lane's number in front), if the screen has it."""
        if (lane := LANE_KEY.fullmatch(key)) is not None:
            index, rest = int(lane.group(1)), lane.group(2)
            if index < len(self.lanes) and rest in self.lanes[index].fields:
                field, label = self.lanes[index].fields[rest]
                return field, self.tr("车道 {0} {1}").format(index + 1, label)
            return None
        return self.fields.get(key)

    def show_problems(self, problems: list[ConfigProblem]) -> None:
        """One line per problem, the field's label and then the key as check-config names it; the first wrong
        field gets the keyboard."""
        for field in self.marked:
            set_level(field, None)
        self.marked = []
        lines = []
        for problem in problems:
            found = self.field_of(problem.key)
            if found is None:
                lines.append(str(problem))
                continue
            field, label = found
            lines.append(self.tr("{0}：{1}").format(label, problem))
            if field not in self.marked:
                set_level(field, "alarm")
                self.marked.append(field)
        self.show_error(self.tr("没有保存，请改正以下 {0} 处：").format(len(problems)) + "\n" + "\n".join(lines))
        if self.marked:
            self.marked[0].setFocus()
            self._show_focused(self.marked[0])

    def show_error(self, text: str, level: str = "alarm") -> None:
        """Text under the form, at most PROBLEM_LINES lines high (it scrolls beyond: the form keeps its room)."""
        self.error.setText(text)
        set_level(self.error, level)  # bold, so measured after it
        self.error.ensurePolished()
        shown = "\n".join(text.split("\n")[:PROBLEM_LINES])
        room = QRect(0, 0, max(self.error_area.viewport().width(), self.width() - 40), 100_000)
        height = self.error.fontMetrics().boundingRect(room, Qt.TextFlag.TextWordWrap, shown).height()
        self.error_area.setMaximumHeight(height + 2 * self.error_area.frameWidth() + 2)
        self.error_area.show()
        self.error_area.verticalScrollBar().setValue(0)

    def _unmark(self, field: QWidget) -> None:
        if field in self.marked:
            set_level(field, None)
            self.marked.remove(field)

    @async_slot
    async def save(self) -> None:
        if self.busy:
            return
        if self.settings is not None:  # already written; the person has read why the ukey is not in the keyring
            self.accept()
            return
        text = config_text(first_config(self.answers()))
        try:
            settings = parse_settings(text, self.config_path)
        except ConfigError as exc:
            self.show_problems(exc.problems)
            return
        self.busy = True
        self.save_button.setEnabled(False)
        try:
            written = await self._write(text)
            if written:
                self.settings = settings
            went_on = written and await self._keep_ukey(settings)
        finally:
            self.busy = False
            self.save_button.setEnabled(True)
        if went_on:
            self.accept()

    async def _write(self, text: str) -> bool:
        path = self.config_path
        if path.exists() or path.is_symlink():  # someone put one there meanwhile: it is theirs, not ours to replace
            self.show_error(self.tr("{0} 已经存在，没有覆盖它。请取消并重新启动 Booth，以使用这个文件。").format(path))
            return False
        try:
            await asyncio.to_thread(write_config, path, text)
        except OSError as exc:
            log.warning("the configuration could not be written to %s: %s", path, exc)
            reason = exc.strerror or str(exc)
            self.show_error(self.tr("无法写入 {0}：{1}。没有保存任何内容。").format(path, reason))
            return False
        log.info("the setup screen wrote the configuration to %s", path)
        self.error_area.hide()
        return True

    async def _keep_ukey(self, settings: Settings) -> bool:
        """The ukey typed, into the OS keyring; False when the keyring refused it (the screen says what to do)."""
        ukey = self.ukey.text().strip()
        if not ukey:
            return True
        try:
            await asyncio.to_thread(store_ukey, settings.park.park_id, ukey)
        except KeyringUnavailable as exc:
            log.warning("the Bolink ukey could not be kept in the OS keyring: %s", exc)
            env = settings.park.ukey_env
            self.show_error(
                self.tr("配置已保存，但系统密钥库无法保存 ukey，请在本机设置环境变量 {0}。按回车继续。").format(env),
                "warning",
            )
            self.body_area.setEnabled(False)  # the file is written: what shows is what is in it
            self.cancel_button.hide()
            self.save_button.setText(self.tr("继续（回车）"))
            self.save_button.setFocus()
            return False
        log.info("the Bolink ukey of park %s is kept in the OS keyring", settings.park.park_id)
        return True

    def reject(self) -> None:
        if self.busy:
            return  # the file may be half way to the disk: wait for it
        if self.settings is not None:
            self.accept()  # written: Esc now goes on, like Enter
            return
        super().reject()


async def first_setup(config_path: Path) -> Settings | None:
    """Show the setup screen and wait until it is saved (the settings written) or cancelled (None).

    Opened with `open()` and awaited, never `exec()`: the event loop keeps running the coroutines meanwhile.
    """
    dialog = SetupDialog(config_path)
    dialog.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)  # closing it is not the last window closing
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def done(result: int) -> None:
        if not finished.done():
            finished.set_result(result)

    dialog.finished.connect(done)
    dialog.open()
    dialog.activateWindow()
    await finished
    settings = dialog.settings
    dialog.deleteLater()
    return settings
