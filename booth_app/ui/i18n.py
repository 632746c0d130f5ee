"""The window's languages: Chinese is written in the code (`self.tr("…")`), English is a Qt translation.

`resources/i18n/booth_en.ts` holds the English of every string in booth_app/ui/ and is compiled into `booth_en.qm`,
which is what the app loads; `scripts/update-translations` collects new strings into the .ts and compiles it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from booth_app.app import resource

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")  # the choices of `ui.language`; zh is the source language


def install_translator(app: QCoreApplication, language: str) -> QTranslator | None:
    """The window's own strings in `language`: nothing to load for Chinese; None (and a logged error) when the
    translation is missing from this installation, so the window still works, in Chinese."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if language == "zh":
        return None
    try:
        path = resource(f"i18n/booth_{language}.qm")
    except FileNotFoundError as exc:
        log.error("%s: the window stays in Chinese", exc)
        return None
    translator = QTranslator(app)  # owned by the application, so it lives as long as the window
    if not translator.load(str(path)):
        log.error("the translation %s cannot be read: the window stays in Chinese", path)
        return None
    app.installTranslator(translator)
    return translator


def install_qt_translator(app: QCoreApplication, language: str) -> QTranslator | None:
    """Qt's own words (standard buttons, a text field's menu) in Chinese; Qt speaks English by itself."""
    if language != "zh":
        return None
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    locale = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    if not translator.load(locale, "qtbase", "_", folder):
        log.warning("Qt's Chinese translation is missing from %s: its standard buttons stay in English", folder)
        return None
    app.installTranslator(translator)
    return translator
