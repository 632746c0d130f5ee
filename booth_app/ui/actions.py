"""The cashier's actions and their default keys, as plain data.

The configuration checks `[ui.keys]` against this table and the window binds keys and draws its F1 help from it, so it
imports nothing from Qt: `booth_app.config` reads it without loading the window (headless mode has no Qt at all).
Keys are written in Qt's portable text ("F5", "Ctrl+F", "Alt+1"). Descriptions are Chinese, the source language; they
are marked for translation here and translated where they are shown (`booth_app.ui.keys`).
"""

from __future__ import annotations

from dataclasses import dataclass


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name Qt's lupdate looks for
    """Marks `text` for translation in `context` without translating it (that happens when it is shown)."""
    return text


CONTEXT = "KeyMap"  # the translation context of every description and group title below

GROUPS: dict[str, str] = {  # in the order the help shows them
    "lanes": QT_TRANSLATE_NOOP("KeyMap", "车道与道闸"),
    "money": QT_TRANSLATE_NOOP("KeyMap", "收费"),
    "plates": QT_TRANSLATE_NOOP("KeyMap", "车牌"),
    "records": QT_TRANSLATE_NOOP("KeyMap", "记录"),
    "shift": QT_TRANSLATE_NOOP("KeyMap", "交接班"),
    "general": QT_TRANSLATE_NOOP("KeyMap", "通用"),
}


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # the key in `[ui.keys]` and in the handlers the window installs
    key: str  # the default key, in Qt's portable text
    group: str  # one of GROUPS
    description: str  # Chinese, marked for translation in CONTEXT
    rebindable: bool = True  # confirm and cancel belong to every dialog's default button and Esc, not to a shortcut


ACTIONS: tuple[Action, ...] = (
    Action("select_lane_1", "Alt+1", "lanes", QT_TRANSLATE_NOOP("KeyMap", "选择第 1 条车道")),
    Action("select_lane_2", "Alt+2", "lanes", QT_TRANSLATE_NOOP("KeyMap", "选择第 2 条车道")),
    Action("select_lane_3", "Alt+3", "lanes", QT_TRANSLATE_NOOP("KeyMap", "选择第 3 条车道")),
    Action("select_lane_4", "Alt+4", "lanes", QT_TRANSLATE_NOOP("KeyMap", "选择第 4 条车道")),
    Action("open_entry_gate", "F2", "lanes", QT_TRANSLATE_NOOP("KeyMap", "开入口道闸（需填写原因）")),
    Action("open_exit_gate", "F3", "lanes", QT_TRANSLATE_NOOP("KeyMap", "开出口道闸（需填写原因）")),
    Action("next_exit", "F4", "lanes", QT_TRANSLATE_NOOP("KeyMap", "切换到下一个待缴费的出口")),
    Action(
        "collect_cash",
        "F5",
        "money",
        QT_TRANSLATE_NOOP("KeyMap", "收现金并放行：按此键后再按回车确认，两键完成一笔缴费"),
    ),
    Action("free_release", "F6", "money", QT_TRANSLATE_NOOP("KeyMap", "免费放行（需填写原因）")),
    Action("correct_plate", "F7", "plates", QT_TRANSLATE_NOOP("KeyMap", "修正车牌，或为出口车辆匹配入场记录")),
    Action("search", "Ctrl+F", "plates", QT_TRANSLATE_NOOP("KeyMap", "按车牌查找在场车辆")),
    Action("history", "F9", "records", QT_TRANSLATE_NOOP("KeyMap", "历史记录、人工抬杆记录与待核实")),
    Action(
        "vehicle_lists", "F11", "records", QT_TRANSLATE_NOOP("KeyMap", "车辆名单（月卡、白名单、黑名单，仅管理员）")
    ),
    Action("shift_handover", "F10", "shift", QT_TRANSLATE_NOOP("KeyMap", "交接班")),
    Action("lock_screen", "Ctrl+L", "shift", QT_TRANSLATE_NOOP("KeyMap", "锁定屏幕，换人登录")),
    Action("operators", "F12", "shift", QT_TRANSLATE_NOOP("KeyMap", "操作员与密码（添加操作员仅管理员）")),
    Action("help", "F1", "general", QT_TRANSLATE_NOOP("KeyMap", "显示或关闭本帮助")),
    Action("confirm", "Return", "general", QT_TRANSLATE_NOOP("KeyMap", "确认（对话框的默认按钮）"), rebindable=False),
    Action("cancel", "Esc", "general", QT_TRANSLATE_NOOP("KeyMap", "取消，关闭对话框"), rebindable=False),
)

ACTIONS_BY_NAME: dict[str, Action] = {action.name: action for action in ACTIONS}
REBINDABLE: tuple[str, ...] = tuple(action.name for action in ACTIONS if action.rebindable)


# ---------------------------------------------------------------- key text (checked without Qt)

MODIFIERS = ("Meta", "Ctrl", "Alt", "Shift")  # the order Qt writes them in
NAMED_KEYS = {
    name.lower(): name
    for name in (
        "Return", "Enter", "Esc", "Space", "Tab", "Backspace", "Del", "Ins", "Home", "End", "PgUp", "PgDown",
        "Up", "Down", "Left", "Right", "Pause", "Print",
    )
} | {"escape": "Esc", "delete": "Del", "insert": "Ins", "pageup": "PgUp", "pagedown": "PgDown"}  # fmt: skip
PUNCTUATION = "`-=[]\\;',./*+"
FUNCTION_KEYS = {f"f{number}": f"F{number}" for number in range(1, 36)}
ALONE = {"Ins", "Pause", "Print"}  # besides F1-F35, the keys that neither type text nor move the cursor


def canonical_key(text: str) -> str:
    """`text` as Qt's portable key text ("ctrl+f" -> "Ctrl+F", "Escape" -> "Esc"); ValueError if it is not one key."""
    stripped = text.strip()
    if stripped == "+" or stripped.endswith("++"):
        head, key = stripped[:-2], "+"  # "Ctrl++" is Ctrl with the plus key
    else:
        head, _, key = stripped.rpartition("+")
    modifiers = [part.strip().lower() for part in head.split("+")] if head else []
    known_modifiers = {name.lower(): name for name in MODIFIERS}
    name = _key_name(key.strip())
    if name is None or any(part not in known_modifiers for part in modifiers) or len(set(modifiers)) < len(modifiers):
        raise ValueError(
            f"{text!r} is not a key: write Ctrl, Alt, Shift or Meta joined by + to one key such as F5, L, 1, Return "
            "or PgUp (Ctrl+F, Alt+1)"
        )
    if not {"ctrl", "alt", "meta"} & set(modifiers) and name.lower() not in FUNCTION_KEYS and name not in ALONE:
        raise ValueError(
            f"{text!r} without Ctrl or Alt is needed for typing and moving in the window's fields: "
            "add Ctrl or Alt, or use one of F1-F35"
        )
    return "+".join([name for name in MODIFIERS if name.lower() in modifiers] + [name])


def _key_name(key: str) -> str | None:
    lowered = key.lower()
    if lowered in FUNCTION_KEYS:
        return FUNCTION_KEYS[lowered]
    if lowered in NAMED_KEYS:
        return NAMED_KEYS[lowered]
    if len(key) == 1 and key.isascii() and (key.isalnum() or key in PUNCTUATION):
        return key.upper()
    return None


def key_bindings(overrides: dict[str, str]) -> dict[str, str]:
    """Every action's key: the default unless `overrides` (from `[ui.keys]`, already canonical) rebinds it."""
    return {action.name: overrides.get(action.name, action.key) for action in ACTIONS}


def key_conflicts(bindings: dict[str, str]) -> list[str]:
    """One sentence per key that two or more actions share."""
    by_key: dict[str, list[str]] = {}
    for action, key in bindings.items():
        by_key.setdefault(key, []).append(action)
    return [
        f"{', '.join(actions[:-1])} and {actions[-1]} are {'both' if len(actions) == 2 else 'all'} bound to {key}"
        for key, actions in by_key.items()
        if len(actions) > 1
    ]
