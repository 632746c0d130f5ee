"""The cashier's keys: rebound in the configuration, pressed in a real offscreen window, and listed by the F1 help."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from booth_app.config import ConfigError, Settings, parse_settings
from booth_app.ui.actions import ACTIONS, Action, canonical_key
from booth_app.ui.help_overlay import HelpOverlay
from booth_app.ui.keys import KeyMap

PORTABLE = QKeySequence.SequenceFormat.PortableText
REBOUND = '\n[ui.keys]\ncollect_cash = "F8"\nsearch = "ctrl+shift+f"\n'


@pytest.fixture
def settings(example_toml: str) -> Settings:
    return parse_settings(example_toml + REBOUND)


class Booth(QMainWindow):
    """A window like the cashier's: a plate field to type in and a button, under window-wide keys."""

    def __init__(self) -> None:
        super().__init__()
        central = QWidget()
        self.plate = QLineEdit()
        self.button = QPushButton("确定")
        layout = QVBoxLayout(central)
        layout.addWidget(self.plate)
        layout.addWidget(self.button)
        self.setCentralWidget(central)
        self.resize(1366, 768)


@pytest.fixture
def window(qtbot: QtBot) -> Booth:
    booth = Booth()
    qtbot.addWidget(booth)
    booth.show()
    booth.activateWindow()
    qtbot.waitActive(booth)
    booth.plate.setFocus()
    return booth


def test_the_configuration_rebinds_only_the_keys_it_names(settings: Settings) -> None:
    keymap = KeyMap.from_settings(settings.ui)
    assert keymap.key("collect_cash").toString(PORTABLE) == "F8"
    assert keymap.key("search").toString(PORTABLE) == "Ctrl+Shift+F"
    assert keymap.key("free_release").toString(PORTABLE) == "F6"
    assert keymap.key("help").toString(PORTABLE) == "F1"
    assert keymap.text("collect_cash") == "F8"


def test_two_actions_on_one_key_are_reported_naming_both(example_toml: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(example_toml + '\n[ui.keys]\nhistory = "F7"\n')
    assert [str(problem) for problem in caught.value.problems] == [
        "ui.keys: correct_plate and history are both bound to F7"
    ]


def test_an_unknown_action_is_reported_by_name(example_toml: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(example_toml + '\n[ui.keys]\nopen_gate = "F2"\n')
    (problem,) = caught.value.problems
    assert problem.key == "ui.keys.open_gate"
    assert "open_entry_gate, open_exit_gate" in problem.message


@pytest.mark.parametrize("action", ACTIONS, ids=lambda action: action.name)
def test_the_default_keys_mean_to_qt_what_the_configuration_checked(action: Action) -> None:
    sequence = QKeySequence(action.key, PORTABLE)
    assert sequence.count() == 1
    assert sequence.toString(PORTABLE) == action.key


@pytest.mark.parametrize("text", ["ctrl+shift+f", "Alt+PageUp", "Meta+Shift+Ctrl+Alt+X", "Ctrl++", "Ctrl+Del", "Ins"])
def test_rebound_keys_mean_to_qt_what_the_configuration_checked(text: str) -> None:
    sequence = QKeySequence(canonical_key(text), PORTABLE)
    assert not sequence.isEmpty()
    assert sequence.toString(PORTABLE) == canonical_key(text)


def test_installed_keys_fire_their_actions_from_anywhere_in_the_window(
    qtbot: QtBot, window: Booth, settings: Settings
) -> None:
    pressed: list[str] = []
    keymap = KeyMap.from_settings(settings.ui)
    shortcuts = keymap.install(
        window,
        {name: (lambda name=name: pressed.append(name)) for name in ("collect_cash", "search", "open_exit_gate")},
    )
    assert [shortcut.key().toString(PORTABLE) for shortcut in shortcuts] == ["F8", "Ctrl+Shift+F", "F3"]
    qtbot.keyClick(window.plate, Qt.Key.Key_F8)
    qtbot.keyClick(window.plate, Qt.Key.Key_F5)  # collect_cash's default: no longer its key
    qtbot.keyClick(window.button, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert pressed == ["collect_cash", "search", "open_exit_gate"]


def test_confirm_cancel_and_unknown_actions_are_not_installed(window: Booth) -> None:
    keymap = KeyMap()
    with pytest.raises(ValueError, match="default button"):
        keymap.install(window, {"confirm": lambda: None})
    with pytest.raises(ValueError, match="'open_gate' is not an action"):
        keymap.install(window, {"open_gate": lambda: None})


def shown_keys(overlay: HelpOverlay) -> dict[str, str]:
    return {label.property("action"): label.text() for label in overlay.findChildren(QLabel, "help-key")}


def test_the_help_lists_every_action_with_its_key_in_groups(qtbot: QtBot, window: Booth, settings: Settings) -> None:
    overlay = HelpOverlay(KeyMap.from_settings(settings.ui), window)
    assert set(shown_keys(overlay)) == {action.name for action in ACTIONS}
    assert shown_keys(overlay)["collect_cash"] == "F8"
    assert shown_keys(overlay)["search"] == "Ctrl+Shift+F"
    assert shown_keys(overlay)["confirm"] == "Return"
    descriptions = {label.property("action"): label.text() for label in overlay.findChildren(QLabel, "help-text")}
    assert "回车" in descriptions["collect_cash"]  # the two keys that finish a payment
    groups = [label.text() for label in overlay.findChildren(QLabel, "help-group")]
    assert groups == ["车道与道闸", "收费", "车牌", "记录", "交接班", "通用"]
    rows = KeyMap.from_settings(settings.ui).rows()
    assert [row.group for row in rows] == sorted(
        (row.group for row in rows), key=["lanes", "money", "plates", "records", "shift", "general"].index
    )


def test_the_help_key_opens_the_help_and_any_key_closes_it_giving_the_focus_back(
    qtbot: QtBot, window: Booth, settings: Settings
) -> None:
    keymap = KeyMap.from_settings(settings.ui)
    overlay = HelpOverlay(keymap, window)
    pressed: list[str] = []
    shortcuts = keymap.install(window, {"help": overlay.toggle, "collect_cash": lambda: pressed.append("cash")})
    assert len(shortcuts) == 2
    for closing_key in (Qt.Key.Key_F1, Qt.Key.Key_Escape, Qt.Key.Key_F8, Qt.Key.Key_Tab):
        qtbot.keyClick(window.plate, Qt.Key.Key_F1)
        assert overlay.isVisible()
        assert overlay.hasFocus()
        assert overlay.geometry() == window.rect()
        qtbot.keyClick(overlay, Qt.Key.Key_Shift)  # a modifier alone is half a key: the help stays
        assert overlay.isVisible()
        qtbot.keyClick(overlay, closing_key)
        assert not overlay.isVisible()
        assert window.plate.hasFocus()
    assert pressed == []  # F8 closed the help; it did not also take cash
    qtbot.keyClick(window.plate, Qt.Key.Key_F8)
    assert pressed == ["cash"]


def test_the_help_covers_the_window_as_it_resizes(qtbot: QtBot, window: Booth) -> None:
    overlay = HelpOverlay(KeyMap(), window)
    overlay.open()
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: overlay.geometry() == window.rect())
    assert overlay.size().width() == 1024
    overlay.dismiss()
    assert window.plate.hasFocus()
