"""The [ui] section: language, release reasons, and rebound keys checked against the window's action table (no Qt)."""

import subprocess
import sys

import pytest

from booth_app.config import DEFAULT_RELEASE_REASONS, ConfigError, parse_settings
from booth_app.ui.actions import ACTIONS, REBINDABLE, canonical_key


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    return [str(problem) for problem in caught.value.problems]


def test_without_a_ui_section_the_window_speaks_chinese_with_the_default_keys(example_toml: str) -> None:
    ui = parse_settings(example_toml).ui
    assert ui.language == "zh"
    assert ui.release_reasons == list(DEFAULT_RELEASE_REASONS)
    assert ui.key_bindings() == {action.name: action.key for action in ACTIONS}


def test_the_ui_section_sets_language_reasons_and_keys(example_toml: str) -> None:
    ui = parse_settings(
        example_toml
        + '\n[ui]\nlanguage = "en"\nrelease_reasons = ["消防演习", "其他"]\n'
        + '[ui.keys]\ncollect_cash = "ctrl+shift+c"\nsearch = "F8"\nhistory = "Alt+Escape"\n'
    ).ui
    assert ui.language == "en"
    assert ui.release_reasons == ["消防演习", "其他"]
    bindings = ui.key_bindings()
    assert (bindings["collect_cash"], bindings["search"], bindings["history"]) == ("Ctrl+Shift+C", "F8", "Alt+Esc")
    assert bindings["free_release"] == "F6"


def test_two_actions_may_swap_their_keys(example_toml: str) -> None:
    bindings = parse_settings(
        example_toml + '\n[ui.keys]\ncollect_cash = "F6"\nfree_release = "F5"\n'
    ).ui.key_bindings()
    assert (bindings["collect_cash"], bindings["free_release"]) == ("F6", "F5")


def test_an_unknown_action_is_named_with_the_actions_there_are(example_toml: str) -> None:
    (line,) = problems(example_toml + '\n[ui.keys]\ncollect_money = "F8"\n')
    assert line.startswith("ui.keys.collect_money: is not an action; the actions are ")
    assert all(name in line for name in REBINDABLE)
    assert "confirm" not in line


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            'confirm = "F12"',
            "ui.keys.confirm: cannot be rebound: every dialog confirms with Return and cancels with Esc",
        ),
        (
            'search = "Ctl+F"',
            "ui.keys.search: 'Ctl+F' is not a key: write Ctrl, Alt, Shift or Meta joined by + to one key such as F5, "
            "L, 1, Return or PgUp (Ctrl+F, Alt+1)",
        ),
        ('search = "F36"', "is not a key"),
        ('search = "Ctrl+Ctrl+F"', "is not a key"),
        ('search = "Ctrl+"', "is not a key"),
        (
            'search = "S"',
            "ui.keys.search: 'S' without Ctrl or Alt is needed for typing and moving in the window's fields: "
            "add Ctrl or Alt, or use one of F1-F35",
        ),
        ('search = "Shift+S"', "is needed for typing"),
        ('search = "Return"', "is needed for typing"),
        ('search = "Tab"', "is needed for typing"),
        ("search = 5", "ui.keys.search: input should be a valid string"),
        ('collect_cash = "F6"', "ui.keys: collect_cash and free_release are both bound to F6"),
        ('history = "F1"\nsearch = "F1"', "ui.keys: search, history and help are all bound to F1"),
        ('help = "alt+1"', "ui.keys: select_lane_1 and help are both bound to Alt+1"),
        ('search = "ctrl+l"', "ui.keys: search and lock_screen are both bound to Ctrl+L"),
    ],
)
def test_each_key_mistake_is_one_line_naming_the_key(example_toml: str, keys: str, expected: str) -> None:
    (line,) = problems(example_toml + f"\n[ui.keys]\n{keys}\n")
    if expected.startswith("ui."):
        assert line == expected
    else:  # one of the two sentences above, for another text
        assert line.startswith("ui.keys.search: '")
        assert expected in line


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('language = "fr"', "ui.language: must be one of zh, en"),
        ('colour = "red"', "ui.colour: unknown key (a typo?)"),
        ('release_reasons = ["车辆故障", "车辆故障"]', "ui.release_reasons: release reason '车辆故障' appears twice"),
        ('release_reasons = ["车辆故障", ""]', "ui.release_reasons[1]: string should have at least 1 character"),
        ("release_reasons = []", "ui.release_reasons: list should have at least 1 item after validation, not 0"),
        ("keys = 3", "ui.keys: input should be a valid dictionary"),
    ],
)
def test_each_ui_mistake_is_one_line_naming_the_key(example_toml: str, section: str, expected: str) -> None:
    assert problems(example_toml + f"\n[ui]\n{section}\n") == [expected]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("F5", "F5"),
        (" f12 ", "F12"),
        ("ctrl+f", "Ctrl+F"),
        ("Shift+Ctrl+Alt+Meta+F", "Meta+Ctrl+Alt+Shift+F"),
        ("Ctrl++", "Ctrl++"),
        ("Alt+PageDown", "Alt+PgDown"),
        ("Ctrl+Delete", "Ctrl+Del"),
        ("Insert", "Ins"),
        ("Shift+F3", "Shift+F3"),
        ("Ctrl+/", "Ctrl+/"),
    ],
)
def test_key_texts_are_written_the_way_qt_writes_them(text: str, canonical: str) -> None:
    assert canonical_key(text) == canonical


def test_every_default_key_is_written_the_way_qt_writes_it() -> None:
    rebindable_defaults = [action.key for action in ACTIONS if action.rebindable]
    assert [canonical_key(key) for key in rebindable_defaults] == rebindable_defaults


def test_checking_the_keys_loads_no_qt() -> None:
    # The headless lane runs without Qt: reading the configuration must not pull it in through the action table.
    code = (
        "import sys, booth_app.config; print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
