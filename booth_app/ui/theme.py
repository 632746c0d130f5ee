"""The window's look: large high-contrast text, a thick focus frame, and the colours of the alarm levels.

Widgets set no fonts or colours of their own; they name themselves (`setObjectName`) and the stylesheet here styles
them: `lane-status`, `plate-text`, `due-amount`, `status-bar` (the QStatusBar, or any bar of that name, and the labels
in it), the F1 help's parts, and any widget's level through the dynamic property `level` ("alarm", "warning", "ok";
set it with `set_level`), which wins over the other rules; a text field or list box marked "alarm" (wrong input)
keeps its black text, on pale red in a red frame, and its blue focus frame when it has the keyboard.
Sizes are in points, so high-DPI screens scale them; at 100 % they still fit four lane tiles into 1366x768.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

# Chinese-capable families, best first: Linux (fonts-noto-cjk), Windows, macOS, older Linux.
FONT_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei UI",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Micro Hei",
)
BASE_POINT_SIZE = 13
LEVELS = ("alarm", "warning", "ok")

TEXT = "#000000"
BACKGROUND = "#f4f4f4"
FIELD = "#ffffff"
FRAME = "#4a4a4a"
FOCUS = "#0050d8"  # 6:1 on white: the focus frame is the cashier's cursor and must be seen at a glance
FOCUS_FILL = "#e3ecff"
SELECTION = "#0050d8"
ALARM, ON_ALARM = "#b00020", "#ffffff"
ALARM_FIELD = "#fde7ea"  # a field the check found wrong: still black text to type in, on pale red in a red frame
WARNING, ON_WARNING = "#ffc400", "#000000"
OK, ON_OK = "#1b5e20", "#ffffff"
BAR, ON_BAR = "#1f1f1f", "#ffffff"

STYLESHEET = f"""
QPushButton, QToolButton {{
    min-height: 32px; padding: 4px 14px; color: {TEXT}; background-color: #e6e6e6;
    border: 3px solid {FRAME}; border-radius: 4px;
}}
QPushButton:default {{ background-color: #c9d8f5; border-color: {TEXT}; }}  /* not bold: Qt sizes the text as regular */
QPushButton:disabled, QToolButton:disabled {{ color: #6b6b6b; border-color: #a0a0a0; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QDateTimeEdit, QPlainTextEdit, QTextEdit,
QListView, QTreeView, QTableView {{
    color: {TEXT}; background-color: {FIELD}; border: 3px solid {FRAME}; border-radius: 3px; padding: 2px;
    selection-color: #ffffff; selection-background-color: {SELECTION};
}}
QCheckBox, QRadioButton {{ border: 3px solid transparent; padding: 2px; }}
QPushButton:focus, QToolButton:focus {{ border-color: {FOCUS}; background-color: {FOCUS_FILL}; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus, QDateTimeEdit:focus, QPlainTextEdit:focus,
QTextEdit:focus, QListView:focus, QTreeView:focus, QTableView:focus, QCheckBox:focus, QRadioButton:focus {{
    border-color: {FOCUS};
}}
QHeaderView::section {{ color: {TEXT}; background-color: #dcdcdc; border: 1px solid {FRAME}; padding: 2px 6px; }}

#lane-status {{ font-size: 18pt; font-weight: bold; padding: 2px 6px; }}
#plate-text {{ font-size: 28pt; font-weight: bold; }}
#due-amount {{ font-size: 28pt; font-weight: bold; }}
#tile-plate {{ font-size: 20pt; font-weight: bold; padding: 0px 6px; }}
#lane-title, #payment-title {{ font-weight: bold; }}
#fee-breakdown {{ font-size: 11pt; color: #303030; }}
QLabel[small="true"] {{ font-size: 11pt; }}
QFrame[selected="true"] {{ border: 3px solid {FOCUS}; border-radius: 4px; }}

QStatusBar, #status-bar {{ color: {ON_BAR}; background-color: {BAR}; }}
QStatusBar QLabel, #status-bar QLabel {{ color: {ON_BAR}; padding: 0px 10px; }}

*[level="alarm"], #status-bar *[level="alarm"] {{ color: {ON_ALARM}; background-color: {ALARM}; font-weight: bold; }}
*[level="warning"], #status-bar *[level="warning"] {{
    color: {ON_WARNING}; background-color: {WARNING}; font-weight: bold;
}}
*[level="ok"], #status-bar *[level="ok"] {{ color: {ON_OK}; background-color: {OK}; }}
QLineEdit[level="alarm"], QComboBox[level="alarm"] {{
    color: {TEXT}; background-color: {ALARM_FIELD}; border-color: {ALARM}; font-weight: normal;
}}
QLineEdit[level="alarm"]:focus, QComboBox[level="alarm"]:focus {{ border-color: {FOCUS}; }}

#help-overlay {{ background-color: rgba(0, 0, 0, 170); }}
#help-panel {{ background-color: {FIELD}; border: 3px solid {FOCUS}; border-radius: 6px; }}
#help-title, #dialog-heading {{ font-size: 20pt; font-weight: bold; }}
#help-hint {{ color: #404040; }}
#help-group {{ font-size: 15pt; font-weight: bold; color: {FOCUS}; padding-top: 6px; }}
#help-key {{
    font-weight: bold; border: 2px solid {FRAME}; border-radius: 4px; padding: 0px 8px; background-color: #ececec;
}}
"""


def configure_high_dpi() -> bool:
    """Call before the QApplication exists. Qt 6 always scales by the screen's factor; PassThrough keeps fractional
    factors (125 % and 150 % are common on Windows) instead of rounding them to 1x or 2x, which would make the text
    either too small or too big for the window to fit. Once an application exists Qt keeps the policy it was created
    with (and warns if asked to change it), so this then does nothing and returns False."""
    if QGuiApplication.instance() is not None:
        return False
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    return True


def base_font() -> QFont:
    """The app's font: the first Chinese-capable family installed (the others as fallbacks), in large print."""
    installed = set(QFontDatabase.families())
    families = [family for family in FONT_FAMILIES if family in installed]
    font = QFont(QApplication.font())
    if families:
        font.setFamilies(families)
    font.setPointSize(BASE_POINT_SIZE)
    return font


def palette() -> QPalette:
    colours = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: FIELD,
        QPalette.ColorRole.AlternateBase: "#ebebeb",
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#e6e6e6",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: SELECTION,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffdc",
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: "#595959",
    }
    result = QPalette()
    for role, colour in colours.items():
        result.setColor(role, QColor(colour))
    return result


def apply_theme(app: QApplication) -> None:
    """Fusion everywhere: it follows the palette and the stylesheet alike on every platform (Windows 11's own style
    draws some widgets its way whatever the stylesheet says), so the booth looks the same on every PC."""
    app.setStyle("Fusion")
    app.setFont(base_font())
    app.setPalette(palette())
    app.setStyleSheet(STYLESHEET)


def set_level(widget: QWidget, level: str | None) -> None:
    """Colour `widget` as an alarm, a warning or fine (None: plain), re-polished so the stylesheet sees the change."""
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)} or None, not {level!r}")
    widget.setProperty("level", level or "")
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()
