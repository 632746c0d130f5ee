"""The cashier's keys: the table of `booth_app.ui.actions` with `[ui.keys]` over its defaults, bound as shortcuts.

The window hands `install` one handler per action it offers; the F1 help is drawn from `rows()`, so what the help
says and what the keys do come from the same table. Confirm and cancel are listed in the help but never installed:
every dialog confirms with its default button (Return) and cancels with Esc, and a window-wide shortcut on either would
take those keys from the dialogs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from booth_app.config import UiConfig
from booth_app.ui.actions import ACTIONS, ACTIONS_BY_NAME, CONTEXT, GROUPS

PORTABLE = QKeySequence.SequenceFormat.PortableText


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One line of the help: what a key does."""

    action: str
    key: str  # as this system writes it (NativeText)
    group: str  # one of booth_app.ui.actions.GROUPS
    group_title: str  # translated
    description: str  # translated


class KeyMap:
    """Every action's key sequence."""

    def __init__(self, bindings: Mapping[str, str] | None = None) -> None:
        """`bindings`: action -> key in Qt's portable text, over the defaults (as `UiConfig.key_bindings()` gives)."""
        bindings = bindings or {}
        unknown = sorted(set(bindings) - set(ACTIONS_BY_NAME))
        if unknown:
            raise ValueError(f"not actions: {', '.join(unknown)}")
        self._keys = {action.name: QKeySequence(bindings.get(action.name, action.key), PORTABLE) for action in ACTIONS}

    @classmethod
    def from_settings(cls, ui: UiConfig) -> KeyMap:
        return cls(ui.key_bindings())

    def key(self, action: str) -> QKeySequence:
        return self._keys[action]

    def text(self, action: str) -> str:
        """The action's key as this system writes it, for a button or a hint ("F5")."""
        return self._keys[action].toString(QKeySequence.SequenceFormat.NativeText)

    def install(self, widget: QWidget, handlers: Mapping[str, Callable[[], object]]) -> list[QShortcut]:
        """A shortcut on `widget`'s window for each action in `handlers` (the shortcuts belong to `widget`)."""
        shortcuts = []
        for name, handler in handlers.items():
            action = ACTIONS_BY_NAME.get(name)
            if action is None:
                raise ValueError(f"{name!r} is not an action of booth_app.ui.actions")
            if not action.rebindable:
                raise ValueError(f"{name!r} belongs to the dialogs' default button and Esc, not to a shortcut")
            shortcut = QShortcut(self._keys[name], widget)
            shortcut.setObjectName(f"key-{name}")
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.setAutoRepeat(False)  # a held key must not open a gate or take cash twice
            shortcut.activated.connect(handler)
            shortcuts.append(shortcut)
        return shortcuts

    def rows(self) -> list[KeyRow]:
        """The help's lines, group by group in the order of GROUPS, each group in the table's order."""
        order = list(GROUPS)
        actions = sorted(ACTIONS, key=lambda action: order.index(action.group))
        return [
            KeyRow(
                action.name,
                self.text(action.name),
                action.group,
                QCoreApplication.translate(CONTEXT, GROUPS[action.group]),
                QCoreApplication.translate(CONTEXT, action.description),
            )
            for action in actions
        ]
