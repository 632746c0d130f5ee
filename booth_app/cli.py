"""The command line: `booth-app [--config FILE] [--data-dir DIR] [--demo] [--headless]`, `check-config FILE` and
`sim KIND …` (one simulator on its own)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from booth_app import __version__
from booth_app.config import ConfigError, default_config_path, default_data_dir, load_settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2  # a bad configuration or command line: a person has to fix something


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="booth-app",
        description="The car-park booth application: lanes, payments, Bolink reporting and the cashier's window.",
    )
    parser.add_argument("--version", action="version", version=f"booth-app {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the configuration file (default: $BOOTH_CONFIG, else booth.toml in the data directory)",
    )
    parser.add_argument(
        "--data-dir", type=Path, metavar="DIR", help=f"where the database and logs live (default: {default_data_dir()})"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run on the built-in simulators: no cameras, boards, relays or Bolink needed",
    )
    parser.add_argument("--headless", action="store_true", help="run the lanes with no window (an unattended site)")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="check this installation: the demo's services, the window offscreen and one car in and out with cash, "
        "on free local ports and a fresh data folder; exit 0, or 1 with one line saying what failed",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = commands.add_parser(
        "check-config", help="check a configuration file: exit 0 if good, 2 with one line per problem if not"
    )
    check.add_argument("file", type=Path, metavar="FILE")
    sim = commands.add_parser(
        "sim",
        help="run one simulator on its own (e.g. `sim bolink --port 9000`); `sim KIND --help` lists its options",
        add_help=False,
    )
    sim.add_argument("kind", choices=sorted(SIMULATORS), metavar="KIND", help=", ".join(sorted(SIMULATORS)))
    sim.add_argument("options", nargs=argparse.REMAINDER, help="the simulator's own options")
    return parser


SIMULATORS = {  # kind -> module with main(argv) -> exit code
    "bolink": "booth_app.sim.bolink",
    "camera": "booth_app.sim.camera",
    "display": "booth_app.sim.display_board",
    "encoder": "booth_app.sim.encoder",
    "relay": "booth_app.sim.relay",
    "video": "booth_app.sim.camera_video",
}


def run_simulator(kind: str, options: list[str]) -> int:
    import importlib

    module = importlib.import_module(SIMULATORS[kind])
    code: int = module.main(options)
    return code


def check_config(path: Path) -> int:
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem if problem.key else f"{path}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{path}: ok — park {settings.park.park_id} ({settings.park.name}), {len(settings.lanes)} lanes, "
        f"{len(settings.vehicles)} seed vehicles"
    )
    if settings.bolink.enabled and settings.ukey() is None:
        print(
            f"note: no Bolink ukey in ${settings.park.ukey_env} or the keyring: reports will wait until there is one",
            file=sys.stderr,
        )
    return EXIT_OK


NO_CONFIGURATION = (
    "there is no configuration file {path}; start booth-app once with its window to fill in the setup screen, "
    "or copy docs/booth.example.toml there and edit it"
)


def first_start(config_path: Path) -> bool:
    """No configuration file yet: the window's setup screen writes one. A file there, even a broken one (or a link
    to nowhere), is someone's: it is reported, never replaced."""
    return not config_path.exists() and not config_path.is_symlink()


def cannot_start(reason: str, *, window: bool) -> None:
    """Say why the app cannot start: on the console, or, for the Windows window program (which has no console, so
    whoever started it from the Start menu would see nothing at all), in a message box."""
    if sys.stderr is not None or not window:
        print(f"booth-app: cannot start: {reason}", file=sys.stderr)
        return
    from booth_app.app import show_start_problem

    show_start_problem(reason)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "check-config":
        return check_config(args.file)
    if args.command == "sim":
        return run_simulator(args.kind, args.options)

    if args.smoke_test:
        from booth_app.smoke import run_smoke_test

        return run_smoke_test(args.data_dir)

    from booth_app import app  # the heavy imports (Qt, SQLAlchemy) only when the app really starts

    data_dir: Path = args.data_dir or default_data_dir()
    if args.demo:
        data_dir = data_dir / "demo"  # demo stays never mix with a real car park's
        settings = app.demo_settings()
    else:
        config_path: Path = args.config or default_config_path(data_dir)
        if first_start(config_path):
            if args.headless:
                print(f"booth-app: cannot start: {NO_CONFIGURATION.format(path=config_path)}", file=sys.stderr)
                return EXIT_USAGE
            return app.run_window(None, data_dir, demo=False, config_path=config_path)
        try:
            settings = load_settings(config_path)
        except ConfigError as exc:
            cannot_start(str(exc), window=not args.headless)
            return EXIT_USAGE
    if args.headless:
        return app.run_headless(settings, data_dir, demo=args.demo)
    return app.run_window(settings, data_dir, demo=args.demo)


if __name__ == "__main__":
    sys.exit(main())
