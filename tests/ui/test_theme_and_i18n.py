"""Legibility and language: the theme on a screenful of booth widgets at 1366x768, and English as a Qt translation.

The translation check alone: `pytest tests/ui/test_theme_and_i18n.py -k english`.
"""

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, QTranslator
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from booth_app.core.decisions import duration_text
from booth_app.core.tariff import Rate, Tariff
from booth_app.core.types import Stay
from booth_app.ui import theme
from booth_app.ui.help_overlay import HelpOverlay
from booth_app.ui.i18n import install_qt_translator, install_translator
from booth_app.ui.keys import KeyMap
from booth_app.ui.payment_panel import duration_words, fee_line_words
from tests.conftest import ROOT

TS = ROOT / "resources" / "i18n" / "booth_en.ts"
QM = TS.with_suffix(".qm")
EXAMPLE_TARIFF = Tariff(
    Rate(free_minutes=15, first_minutes=60, first_price=Decimal(5), unit_minutes=30, unit_price=Decimal(2),
         daily_cap=Decimal(40))
)  # fmt: skip
USABLE = QSize(1366, 768 - 40 - 30)  # a 1366x768 screen less a Windows taskbar and the window's title bar


def app() -> QApplication:
    instance = QApplication.instance()
    assert isinstance(instance, QApplication)
    return instance


# ---------------------------------------------------------------- translations


def waiting_for_english(ts: Path) -> list[str]:
    return [
        f"{context.findtext('name')}: {message.findtext('source')}"
        for context in ET.parse(ts).getroot().iter("context")
        for message in context.iter("message")
        if message.find("translation").get("type") == "unfinished" or not message.findtext("translation")
    ]


@pytest.mark.slow
def test_every_string_of_the_window_has_its_english(tmp_path: Path) -> None:
    ts = tmp_path / TS.name
    shutil.copy(TS, ts)
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [str(ROOT / "scripts" / "update-translations"), str(ts)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    waiting = waiting_for_english(ts)
    assert waiting == [], (
        "these strings of booth_app/ui/ have no English yet: run scripts/update-translations and fill them in "
        "resources/i18n/booth_en.ts:\n" + "\n".join(waiting)
    )
    assert ts.read_text(encoding="utf-8") == TS.read_text(encoding="utf-8"), (
        "resources/i18n/booth_en.ts is behind the code: run scripts/update-translations"
    )
    assert ts.with_suffix(".qm").read_bytes() == QM.read_bytes(), (
        "resources/i18n/booth_en.qm is not compiled from booth_en.ts: run scripts/update-translations"
    )


@pytest.fixture
def translators() -> Iterator[list[QTranslator]]:
    installed: list[QTranslator] = []
    yield installed
    for translator in installed:
        app().removeTranslator(translator)


def untranslatable_calls(source: str) -> list[str]:
    """Calls of tr()/translate() that Qt's lupdate cannot read: text that is not a literal, or a call inside an f-string
    (lupdate skips f-strings), so the string would never reach booth_en.ts and stay Chinese in the English window."""
    tree = ast.parse(source)
    fstrings = [node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)]
    in_fstrings = {id(node) for joined in fstrings for node in ast.walk(joined)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in ("tr", "translate"):
            continue
        text = node.args[-1] if node.args else None
        literal = isinstance(text, ast.Constant) and isinstance(text.value, str)
        if id(node) in in_fstrings or not literal:
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_lupdate_sees_every_string_of_the_window() -> None:
    marked = {"keys.py"}  # its strings are marked with QT_TRANSLATE_NOOP in booth_app/ui/actions.py
    problems = {
        path.name: calls
        for path in sorted((ROOT / "booth_app" / "ui").glob("*.py"))
        if path.name not in marked and (calls := untranslatable_calls(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_the_checker_finds_what_lupdate_misses() -> None:
    source = textwrap.dedent(
        """
        def _t(text): return translate("Ctx", text)
        a = f"<h3>{translate('Ctx', '现金')}</h3>"
        b = self.tr("好")
        """
    )
    assert [call.split(":")[0] for call in untranslatable_calls(source)] == ["line 2", "line 3"]


def test_fee_words_follow_the_language(qtbot: QtBot, translators: list[QTranslator]) -> None:
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    stay = Stay("B1_1", "京A12345", now - timedelta(days=1, minutes=130), "A1")
    fee = EXAMPLE_TARIFF.fee(stay, now)
    assert [fee_line_words(line) for line in fee.lines] == [line.describe() for line in fee.lines]
    for span in (timedelta(seconds=1), timedelta(minutes=59, seconds=1), timedelta(days=2), fee.duration):
        assert duration_words(span) == duration_text(span)
    translator = install_translator(app(), "en")
    assert translator is not None
    translators.append(translator)
    assert fee_line_words(fee.lines[0]) == "day 1: first 60 min 5.00 + 46×30 min 92.00 = 97.00, capped at 40.00"
    assert duration_words(fee.duration) == "1 d 2 h 10 min"


def title_of(overlay: HelpOverlay) -> str:
    label = overlay.findChild(QLabel, "help-title")
    assert label is not None
    return label.text()


def test_chinese_needs_no_translation_and_english_is_loaded(qtbot: QtBot, translators: list[QTranslator]) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    assert install_translator(app(), "zh") is None
    assert title_of(HelpOverlay(KeyMap(), window)) == "快捷键"
    translator = install_translator(app(), "en")
    assert translator is not None
    translators.append(translator)
    assert title_of(HelpOverlay(KeyMap(), window)) == "Keyboard shortcuts"
    rows = {row.action: row for row in KeyMap().rows()}
    assert rows["collect_cash"].description.startswith("Take cash and release")
    assert rows["open_entry_gate"].group_title == "Lanes and gates"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language must be one of zh, en, not 'fr'"):
        install_translator(app(), "fr")


def test_qts_own_buttons_speak_chinese(qtbot: QtBot, translators: list[QTranslator]) -> None:
    assert install_qt_translator(app(), "en") is None
    translator = install_qt_translator(app(), "zh")
    assert translator is not None
    translators.append(translator)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(buttons)
    assert sorted(button.text() for button in buttons.buttons()) == sorted(["确定", "取消"])


# ---------------------------------------------------------------- the theme


@pytest.fixture
def themed() -> Iterator[QApplication]:
    application = app()
    before = (application.style().name(), QFont(application.font()), QPalette(application.palette()))
    stylesheet = application.styleSheet()
    theme.apply_theme(application)
    yield application
    style, font, palette = before
    application.setStyleSheet(stylesheet)
    application.setStyle(style)
    application.setFont(font)
    application.setPalette(palette)


def named(widget: QWidget, name: str) -> QWidget:
    widget.setObjectName(name)
    return widget


class SampleBooth(QMainWindow):
    """The cashier's screen as the window lays it out: 2x2 lane tiles, queues and payment at the right, a status bar."""

    def __init__(self) -> None:
        super().__init__()
        tiles = QGridLayout()
        self.tiles = []
        for index, (name, plate) in enumerate([("东门入口", "京A12345"), ("东门出口", "京AD12345")] * 2):
            tile = QFrame()
            tile.setFrameShape(QFrame.Shape.StyledPanel)
            video = QLabel("视频")
            video.setMinimumSize(320, 140)
            status = named(QLabel("黑名单车辆，禁止入场"), "lane-status")
            theme.set_level(status, "alarm" if index == 0 else None)
            layout = QVBoxLayout(tile)
            for widget in (QLabel(f"{name} · A{index}"), video, named(QLabel(plate), "plate-text"), status):
                layout.addWidget(widget)
            tiles.addWidget(tile, index // 2, index % 2)
            self.tiles.append(tile)
        self.search = QLineEdit()
        self.search.setPlaceholderText("按车牌查找（Ctrl+F）")
        queue = QTableWidget(6, 4)
        queue.setHorizontalHeaderLabels(["车牌", "类型", "入口", "入场时间"])
        self.due = named(QLabel("应缴 128.00 元"), "due-amount")
        self.cash = QPushButton("收现金（F5）")
        self.cash.setDefault(True)
        side = QVBoxLayout()
        for widget in (self.search, queue, named(QLabel("京AD12345"), "plate-text"), self.due, self.cash):
            side.addWidget(widget)
        body = QHBoxLayout()
        body.addLayout(tiles, stretch=3)
        body.addLayout(side, stretch=1)
        central = QWidget()
        central.setLayout(body)
        self.setCentralWidget(central)
        self.link = named(QLabel("泊链离线：连接超时"), "bolink-state")
        theme.set_level(self.link, "warning")
        self.occupancy = QLabel("在场 118 辆 · 余位 2 / 120")
        self.statusBar().setObjectName("status-bar")
        self.statusBar().addPermanentWidget(self.link)
        self.statusBar().addPermanentWidget(self.occupancy)


def colour_at(widget: QWidget, x: int, y: int) -> str:
    return widget.grab().toImage().pixelColor(x, y).name()


def test_the_theme_fits_a_booth_screen_at_1366x768_in_large_print(
    qtbot: QtBot, themed: QApplication, tmp_path: Path
) -> None:
    assert themed.font().pointSize() >= 12
    assert any("CJK" in family or "YaHei" in family for family in themed.font().families())
    window = SampleBooth()
    qtbot.addWidget(window)
    hint = window.minimumSizeHint()
    assert hint.width() <= USABLE.width()
    assert hint.height() <= USABLE.height()
    window.resize(USABLE)
    window.show()
    qtbot.waitExposed(window)
    for plate in window.findChildren(QLabel, "plate-text"):
        assert plate.font().pointSize() >= 24
        assert plate.font().bold()
        assert plate.width() >= plate.sizeHint().width()  # the whole plate shows, even in a quarter of the screen
    assert window.due.font().pointSize() >= 24
    image = window.grab()
    assert not image.isNull()
    assert image.size() == USABLE
    assert image.save(str(tmp_path / "booth.png"))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_help_fits_the_screen_in_either_language(
    qtbot: QtBot, themed: QApplication, translators: list[QTranslator], language: str, tmp_path: Path
) -> None:
    translator = install_translator(themed, language)
    if translator is not None:
        translators.append(translator)
    window = SampleBooth()
    qtbot.addWidget(window)
    window.resize(USABLE)
    window.show()
    qtbot.waitExposed(window)
    overlay = HelpOverlay(KeyMap(), window)
    overlay.open()
    assert overlay.geometry() == window.rect()
    assert window.grab().save(str(tmp_path / f"help-{language}.png"))
    labels = overlay.findChildren(QLabel)
    assert len(labels) > 20
    for label in labels:  # every line of the help shows whole, none squeezed or cut off
        assert overlay.rect().contains(QRect(label.mapTo(overlay, QPoint(0, 0)), label.size()))
        needed = label.heightForWidth(label.width()) if label.wordWrap() else label.sizeHint().height()
        assert label.height() >= needed, label.text()


def test_levels_colour_their_widget_and_focus_is_a_thick_frame(qtbot: QtBot, themed: QApplication) -> None:
    window = SampleBooth()
    qtbot.addWidget(window)
    window.resize(USABLE)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    alarm = window.findChildren(QLabel, "lane-status")[0]
    assert colour_at(alarm, 2, 2) == QColor(theme.ALARM).name()
    assert colour_at(window.link, 2, 2) == QColor(theme.WARNING).name()  # over the status bar's own colours
    assert colour_at(window.statusBar(), 2, 2) == QColor(theme.BAR).name()
    assert window.occupancy.palette().color(QPalette.ColorRole.WindowText) == QColor(theme.ON_BAR)
    theme.set_level(alarm, None)
    assert colour_at(alarm, 2, 2) != QColor(theme.ALARM).name()
    window.search.setFocus()
    qtbot.waitUntil(window.search.hasFocus)
    middle = window.search.height() // 2
    assert [colour_at(window.search, x, middle) for x in (0, 1, 2)] == [QColor(theme.FOCUS).name()] * 3
    window.cash.setFocus()
    qtbot.waitUntil(window.cash.hasFocus)
    assert colour_at(window.search, 1, middle) != QColor(theme.FOCUS).name()
    assert colour_at(window.cash, 1, window.cash.height() // 2) == QColor(theme.FOCUS).name()
    with pytest.raises(ValueError, match="level must be one of alarm, warning, ok"):
        theme.set_level(alarm, "red")


def test_fractional_screen_scales_are_kept_not_rounded(tmp_path: Path) -> None:
    # A 125 % screen (common on Windows laptops) would be drawn at 100 % under Qt's rounding policies.
    code = textwrap.dedent(
        """
        from PySide6.QtWidgets import QApplication
        from booth_app.ui import theme
        print(theme.configure_high_dpi())
        app = QApplication([])
        theme.apply_theme(app)
        from tests.ui.test_theme_and_i18n import SampleBooth
        window = SampleBooth()
        window.resize(1366, 698)
        window.show()
        print(window.devicePixelRatioF(), window.grab().size().width())
        print(theme.configure_high_dpi())  # too late: Qt keeps what it started with
        """
    )
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "QT_SCREEN_SCALE_FACTORS": "1.25"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    lines = result.stdout.splitlines()
    assert lines == ["True", f"1.25 {round(1366 * 1.25)}", "False"]
    assert "setHighDpiScaleFactorRoundingPolicy" not in result.stderr
