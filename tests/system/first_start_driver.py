"""A person starting booth-app on a new booth: no configuration yet, so the setup screen shows; this fills it in (or
cancels it) and, once the window is up and asks for the first admin, closes the window as a person would.

Run by tests/system/test_first_start.py: `python -m tests.system.first_start_driver DATA_DIR CAMERA_PORT save|cancel`.
"""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def main(data_dir: str, camera_port: str, action: str) -> int:
    from booth_app.cli import main as booth_app
    from booth_app.ui.login import FirstAdminDialog
    from booth_app.ui.main_window import MainWindow
    from booth_app.ui.setup import SetupDialog

    app = QApplication(sys.argv[:1])
    done: set[str] = set()

    def look() -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, SetupDialog) and "setup" not in done:
            done.add("setup")
            print("the setup screen shows", flush=True)
            if action == "cancel":
                modal.reject()
                return
            for field, text in ((modal.park_id, "1001"), (modal.union_id, "200188"), (modal.park_name, "新停车场"),
                                (modal.capacity, "120"), (modal.camera_port, camera_port)):  # fmt: skip
                field.setText(text)
            for number, lane in enumerate(modal.lanes):
                lane.serialno.setText(f"cam-{number}")
                lane.display_port.setCurrentText("socket://127.0.0.1:9")  # nothing answers: the lane retries
            modal.language.setCurrentIndex(modal.language.findData("en"))  # the window then speaks English
            modal.save_button.click()
        shown = any(isinstance(window, MainWindow) and window.isVisible() for window in app.topLevelWidgets())
        if shown and isinstance(modal, FirstAdminDialog) and "admin" not in done:
            done.add("admin")
            print(f"the window asks for the first admin: {modal.windowTitle()}", flush=True)
            app.closeAllWindows()

    timer = QTimer()
    timer.timeout.connect(look)
    timer.start(50)
    return booth_app(["--data-dir", data_dir])


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
