"""The first-start setup screen, filled from the keyboard as an installer would, writing a real file."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordSetError
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from booth_app.config import BOLINK_SDK_URL, BOLINK_UNION_API_URL, ModbusBarrier, Settings, load_settings
from booth_app.ui.setup import SetupDialog, first_setup
from tests.helpers import until
from tests.unit.test_config import MemoryKeyring

from .keyboard import focused, press, type_text

Key = Qt.Key
USABLE = QSize(1366, 768 - 40 - 30)  # a 1366x768 screen less a Windows taskbar and the window's title bar


@contextlib.asynccontextmanager
async def setup_screen(path: Path) -> AsyncIterator[tuple[SetupDialog, "asyncio.Task[Settings | None]"]]:
    """The setup screen as the app opens it (`first_setup`), once it has the keyboard; closed at the end anyway."""
    task = asyncio.create_task(first_setup(path))
    await until(lambda: isinstance(QApplication.activeModalWidget(), SetupDialog), within=5)
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, SetupDialog)
    await until(lambda: dialog.isAncestorOf(QApplication.focusWidget()), within=5)
    try:
        yield dialog, task
    finally:
        if not task.done():
            dialog.busy = False
            dialog.settings = None
            dialog.reject()
        await asyncio.wait_for(task, 10)


def tab(qtbot: QtBot, times: int = 1) -> None:
    for _ in range(times):
        press(qtbot, Key.Key_Tab)


def typed(qtbot: QtBot, text: str) -> None:
    """Replace what the focused field holds (Tab selects a field's text; a click would not)."""
    field = focused()
    if isinstance(field, QLineEdit) and not field.hasSelectedText():
        field.selectAll()
    type_text(qtbot, text)


def at(dialog: SetupDialog) -> str:
    """The object name of the field with the keyboard (a port list's text field answers for the list)."""
    widget: QWidget | None = QApplication.focusWidget()
    assert widget is not None
    assert dialog.isAncestorOf(widget)
    if isinstance(widget.parent(), QComboBox):
        widget = widget.parent()
    return widget.objectName()


def fill_park(qtbot: QtBot, dialog: SetupDialog) -> None:
    """From the first field: park, Bolink, no ukey, camera port; leaves the keyboard on lane 1's id."""
    assert at(dialog) == "park-id"
    typed(qtbot, "1001")
    tab(qtbot)
    typed(qtbot, "200188")
    tab(qtbot)
    typed(qtbot, "东门停车场")
    tab(qtbot)
    typed(qtbot, "300")
    tab(qtbot)
    assert at(dialog) == "local-id"
    typed(qtbot, "booth01")
    tab(qtbot, 3)  # the Bolink addresses as proposed
    assert at(dialog) == "ukey"
    tab(qtbot)
    assert at(dialog) == "camera-port"
    typed(qtbot, "18088")
    tab(qtbot)
    assert at(dialog) == "lane-id"


def fill_lane(qtbot: QtBot, dialog: SetupDialog, name: str, lane_no: str, serialno: str, port: str) -> None:
    """One lane from its id (kept as proposed) to its barrier kind, where the keyboard stays."""
    tab(qtbot)
    typed(qtbot, name)
    tab(qtbot, 2)  # the direction as proposed
    typed(qtbot, lane_no)
    tab(qtbot)
    typed(qtbot, serialno)
    tab(qtbot, 2)  # no camera ip
    assert at(dialog) == "camera-rtsp"
    typed(qtbot, f"rtsp://192.0.2.10:8557/{serialno}")
    tab(qtbot)
    assert at(dialog) == "display-port"
    typed(qtbot, port)
    tab(qtbot, 3)  # 9600 baud, address 0
    assert at(dialog) == "barrier-kind"


def on_disk(path: Path) -> str | None:
    """What the file holds ("" for a folder), or None when there is nothing at `path`."""
    if not path.exists():
        return None
    return "" if path.is_dir() else path.read_text(encoding="utf-8")


def put(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "ProgramData" / "booth-app" / "booth.toml"


@pytest.fixture
def no_ukey_anywhere(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("BOOTH_BOLINK_UKEY", raising=False)
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


async def test_a_two_lane_park_typed_in_is_the_file_written(
    qtbot: QtBot, config_path: Path, no_ukey_anywhere: MemoryKeyring
) -> None:
    async with setup_screen(config_path) as (dialog, task):
        fill_park(qtbot, dialog)
        fill_lane(qtbot, dialog, "东门入口", "000123", "cam-a1", "COM3")
        tab(qtbot, 2)  # the board's relay 1 opens the gate
        assert at(dialog) == "lane-remove"
        tab(qtbot)
        fill_lane(qtbot, dialog, '东门"出口"\\', "000124", "cam-b1", "socket://127.0.0.1:7004")
        press(qtbot, Key.Key_Down)  # a Modbus relay board opens this gate
        tab(qtbot)
        assert at(dialog) == "barrier-port"
        typed(qtbot, "COM5")
        tab(qtbot, 2)
        typed(qtbot, "2")
        tab(qtbot)
        typed(qtbot, "3")
        press(qtbot, Key.Key_Return)
        settings = await asyncio.wait_for(task, 10)

    assert settings is not None
    assert load_settings(config_path) == settings
    park, bolink = settings.park, settings.bolink
    assert (park.park_id, park.union_id, park.name, park.capacity) == ("1001", 200188, "东门停车场", 300)
    assert (bolink.local_id, bolink.sdk_url, bolink.union_api_url) == ("booth01", BOLINK_SDK_URL, BOLINK_UNION_API_URL)
    assert settings.camera_listener.port == 18088
    entry, exit_ = settings.lanes
    assert (entry.id, entry.name, entry.direction, entry.lane_no) == ("A1", "东门入口", "in", "000123")
    assert (entry.camera.serialno, entry.camera.ip, entry.camera.rtsp) == (
        "cam-a1",
        "",
        "rtsp://192.0.2.10:8557/cam-a1",
    )
    assert (entry.display.port, entry.display.baudrate, entry.display.address) == ("COM3", 9600, 0)
    assert (entry.barrier.kind, entry.barrier.relay) == ("display_relay", 1)  # type: ignore[union-attr]
    assert (exit_.id, exit_.name, exit_.direction, exit_.lane_no) == ("B1", '东门"出口"\\', "out", "000124")
    assert exit_.display.port == "socket://127.0.0.1:7004"
    assert isinstance(exit_.barrier, ModbusBarrier)
    assert (exit_.barrier.port, exit_.barrier.baudrate, exit_.barrier.device_id, exit_.barrier.coil) == (
        "COM5",
        9600,
        2,
        3,
    )
    assert settings.ui.language == "zh"
    assert settings.ukey() is None  # none typed: nothing in the keyring either
    assert no_ukey_anywhere.secrets == {}


async def test_mistakes_are_listed_by_key_and_nothing_is_written_until_they_are_fixed(
    qtbot: QtBot, config_path: Path, no_ukey_anywhere: MemoryKeyring
) -> None:
    async with setup_screen(config_path) as (dialog, task):
        fill_park(qtbot, dialog)
        tab(qtbot, 3)
        assert at(dialog) == "lane-no"
        tab(qtbot)  # lane 1's camera serialno left empty
        dialog.sdk_url.setFocus()
        typed(qtbot, "p.bolink.club/bpd")  # no http://
        dialog.lanes[1].lane_id.setFocus()
        typed(qtbot, "A1")  # the id of lane 1 again
        dialog.lanes[1].serialno.setFocus()
        typed(qtbot, "cam-b1")
        press(qtbot, Key.Key_Return)

        await until(dialog.error_area.isVisible)
        assert dialog.error.text().splitlines() == [
            "没有保存，请改正以下 3 处：",
            "泊链 SDK 地址：bolink.sdk_url: must be an http:// or https:// address",
            "车道 1 相机序列号：lanes[0].camera.serialno: string should have at least 1 character",
            "车道 2 编号：lanes[1].id: 'A1' is already used in lanes[0]",
        ]
        assert on_disk(config_path.parent) is None  # not even the folder
        assert at(dialog) == "sdk-url"  # the first field to fix has the keyboard
        assert [field.objectName() for field in dialog.marked] == ["sdk-url", "camera-serialno", "lane-id"]
        assert (dialog.sdk_url.text(), dialog.lanes[1].lane_id.text()) == ("p.bolink.club/bpd", "A1")
        assert dialog.park_name.text() == "东门停车场"  # everything typed is still there

        typed(qtbot, BOLINK_SDK_URL)
        assert dialog.sdk_url not in dialog.marked  # edited: no longer marked
        dialog.lanes[0].serialno.setFocus()
        typed(qtbot, "cam-a1")
        dialog.lanes[1].lane_id.setFocus()
        typed(qtbot, "B1")
        press(qtbot, Key.Key_Return)
        settings = await asyncio.wait_for(task, 10)

    assert settings is not None
    assert [lane.id for lane in load_settings(config_path).lanes] == ["A1", "B1"]


async def test_cancel_writes_nothing(qtbot: QtBot, config_path: Path) -> None:
    async with setup_screen(config_path) as (_dialog, task):
        typed(qtbot, "1001")
        press(qtbot, Key.Key_Escape)
        assert await asyncio.wait_for(task, 5) is None
    assert on_disk(config_path.parent) is None


def fill_with_ukey(qtbot: QtBot, dialog: SetupDialog, ukey: str) -> None:
    """The park, a ukey and each lane's camera serial number typed in, then Enter."""
    fill_park(qtbot, dialog)
    dialog.ukey.setFocus()
    typed(qtbot, ukey)
    for number, lane in enumerate(dialog.lanes):
        lane.serialno.setFocus()
        typed(qtbot, f"cam-{number}")
    press(qtbot, Key.Key_Return)


async def test_the_ukey_goes_to_the_keyring_never_to_the_file(
    qtbot: QtBot, config_path: Path, no_ukey_anywhere: MemoryKeyring
) -> None:
    async with setup_screen(config_path) as (dialog, task):
        fill_with_ukey(qtbot, dialog, "8403A41ED5EF20BC")
        settings = await asyncio.wait_for(task, 10)
    assert settings is not None
    assert no_ukey_anywhere.secrets == {("booth-app", "ukey:1001"): "8403A41ED5EF20BC"}
    assert settings.ukey() == "8403A41ED5EF20BC"
    assert "8403A41ED5EF20BC" not in on_disk(config_path)


class LockedKeyring(KeyringBackend):
    """A keyring that refuses every secret, as a locked or missing one does."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("the keyring is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordSetError("the keyring is locked")


async def test_a_keyring_that_refuses_the_ukey_is_said_in_one_sentence_and_the_start_goes_on(
    qtbot: QtBot, config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOOTH_BOLINK_UKEY", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        async with setup_screen(config_path) as (dialog, task):
            fill_with_ukey(qtbot, dialog, "8403A41ED5EF20BC")
            await until(lambda: dialog.settings is not None and dialog.error_area.isVisible())
            assert dialog.error.text() == (
                "配置已保存，但系统密钥库无法保存 ukey，请在本机设置环境变量 BOOTH_BOLINK_UKEY。按回车继续。"
            )
            assert dialog.error.property("level") == "warning"
            assert on_disk(config_path)
            assert not task.done()  # read first, then go on
            press(qtbot, Key.Key_Return)
            settings = await asyncio.wait_for(task, 5)
    finally:
        keyring.set_keyring(previous)
    assert settings == load_settings(config_path)


async def test_lanes_are_added_and_removed_from_the_keyboard(qtbot: QtBot, config_path: Path) -> None:
    async with setup_screen(config_path) as (dialog, _task):
        press(qtbot, Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: len(dialog.lanes) == 3)
        third = dialog.lanes[2]
        assert at(dialog) == "lane-id"
        assert third.isAncestorOf(QApplication.focusWidget())
        assert (third.lane_id.text(), third.name.text(), third.title()) == ("A2", "入口 2", "车道 3（lanes[2]）")
        tab(qtbot, 2)
        assert at(dialog) == "lane-direction"
        press(qtbot, Key.Key_Down)  # an exit after all: the proposed id and name follow
        assert (third.lane_id.text(), third.name.text()) == ("B2", "出口 2")
        assert (
            dialog.body_area.viewport().rect().intersects(third.geometry().translated(dialog.body_area.widget().pos()))
        )  # scrolled to where the keyboard is

        dialog.lanes[0].remove.setFocus()
        press(qtbot, Key.Key_Space)
        assert len(dialog.lanes) == 2
        assert [lane.title() for lane in dialog.lanes] == ["车道 1（lanes[0]）", "车道 2（lanes[1]）"]
        assert [lane.lane_id.text() for lane in dialog.lanes] == ["B1", "B2"]
        assert at(dialog) == "lane-id"
        dialog.lanes[0].remove.setFocus()
        press(qtbot, Key.Key_Space)
        assert not dialog.lanes[0].remove.isEnabled()  # the last lane stays
        assert [lane.lane_id.text() for lane in dialog.lanes] == ["B2"]


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_screen_fits_a_booth_screen_in_either_language(
    qtbot: QtBot, config_path: Path, language: str
) -> None:
    from booth_app.ui.i18n import install_translator

    translator = install_translator(QApplication.instance(), language)  # type: ignore[arg-type]
    try:
        dialog = SetupDialog(config_path)
        qtbot.addWidget(dialog)
        hint = dialog.minimumSizeHint()
        assert hint.width() <= USABLE.width()
        assert hint.height() <= USABLE.height()
        dialog.resize(USABLE)
        dialog.show()
        await until(dialog.isVisible)
        assert dialog.body_area.widget().width() <= dialog.body_area.viewport().width()  # no sideways scrolling
        if language == "en":
            assert dialog.windowTitle() == "Booth first-time setup"
    finally:
        if translator is not None:
            QApplication.instance().removeTranslator(translator)


def fill_required(dialog: SetupDialog) -> None:
    """What a valid file needs and the screen does not propose (for tests about what happens next)."""
    for field, text in ((dialog.park_id, "1001"), (dialog.union_id, "200188"), (dialog.park_name, "停车场"),
                        (dialog.capacity, "300")):  # fmt: skip
        field.setText(text)
    for number, lane in enumerate(dialog.lanes):
        lane.serialno.setText(f"cam-{number}")


async def test_a_file_that_appeared_meanwhile_is_not_replaced(qtbot: QtBot, config_path: Path) -> None:
    async with setup_screen(config_path) as (dialog, task):
        fill_required(dialog)
        put(config_path, "# someone else's\n")  # another installer, or a copied example
        press(qtbot, Key.Key_Return)
        await until(dialog.error_area.isVisible)
        assert dialog.error.text() == f"{config_path} 已经存在，没有覆盖它。请取消并重新启动 Booth，以使用这个文件。"
        press(qtbot, Key.Key_Escape)
        assert await asyncio.wait_for(task, 5) is None
    assert on_disk(config_path) == "# someone else's\n"


async def test_a_folder_that_cannot_be_made_is_one_sentence_and_the_input_stays(qtbot: QtBot, tmp_path: Path) -> None:
    put(tmp_path / "ProgramData", "a file where the folder should be")
    config_path = tmp_path / "ProgramData" / "booth.toml"
    async with setup_screen(config_path) as (dialog, task):
        fill_required(dialog)
        press(qtbot, Key.Key_Return)
        await until(dialog.error_area.isVisible)
        assert dialog.error.text().startswith(f"无法写入 {config_path}：")
        assert dialog.error.text().endswith("。没有保存任何内容。")
        assert dialog.park_name.text() == "停车场"
        assert not task.done()
        assert dialog.save_button.isEnabled()
    assert on_disk(tmp_path / "ProgramData") == "a file where the folder should be"
    assert on_disk(config_path) is None


async def test_a_number_field_holding_no_number_is_named_like_any_other_problem(
    qtbot: QtBot, config_path: Path
) -> None:
    async with setup_screen(config_path) as (dialog, _task):
        fill_required(dialog)
        dialog.capacity.setFocus()
        typed(qtbot, "+")  # what the field lets through while a number is being typed
        press(qtbot, Key.Key_Return)
        await until(dialog.error_area.isVisible)
        assert dialog.error.text().splitlines()[1:] == [
            "车位数：park.capacity: input should be a valid integer, unable to parse string as an integer"
        ]
    assert on_disk(config_path.parent) is None
