"""The `sessiontop` command: find the store (or make a demo one) and run the app."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from . import __version__
from .tau.paths import default_data_dir, default_runtime_dir, find_socket


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="sessiontop",
        description="A live terminal dashboard of tau agent sessions: which task, which phase, "
        "how each turn ended. Reads tau's SQLite store read-only and redraws when it changes.",
    )
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="tau's data directory (default: $XDG_DATA_HOME/tau, else "
                             "~/.local/share/tau). With --demo: where the demo store is kept.")
    parser.add_argument("--runtime-dir", type=Path, default=None,
                        help="tau's runtime directory holding its socket tau.sock (default: "
                             "$XDG_RUNTIME_DIR/tau, else ~/.tau, else /tmp/tau-*/)")
    parser.add_argument("--demo", action="store_true",
                        help="run on a built-in demo fleet that writes a tau-shaped store")
    parser.add_argument("--seed", type=int, default=7, help="demo: random seed (default 7)")
    parser.add_argument("--speed", type=float, default=1.0, help="demo: speed factor (default 1)")
    parser.add_argument("--poll", type=float, default=None, metavar="SECONDS",
                        help="poll every SECONDS instead of watching for file events "
                             "(for filesystems that send no events)")
    parser.add_argument("--version", action="version", version=f"sessiontop {__version__}")
    args = parser.parse_args(argv)
    if args.poll is not None and args.poll <= 0:
        parser.error("--poll needs a positive number of seconds")
    if args.speed <= 0:
        parser.error("--speed needs a positive number")
    return args


class Terminated(Exception):
    """SIGTERM or SIGHUP outside the app's event loop (while starting or
    stopping the demo): unwind through the ``finally`` that cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def _catch_exit_signals() -> None:
    """Outside the app's loop a signal unwinds (inside it, the app quits)."""
    from .terminal import EXIT_SIGNALS

    for sig in EXIT_SIGNALS:
        signal.signal(sig, _raise_terminated)


def main(argv: list[str] | None = None) -> int:
    # issue 12: `sessiontop list` / `watch`, for scripts: no Textual on that path (tui/scripts).
    script_argv = sys.argv[1:] if argv is None else argv
    if script_argv and script_argv[0] in ("list", "watch"):
        from .scripts import main as scripts_main
        return scripts_main(script_argv)
    args = parse_args(argv)
    from .terminal import exit_status

    _catch_exit_signals()
    try:
        return _run(args)
    except Terminated as exc:
        return exit_status(exc.signum)


def _run(args: argparse.Namespace) -> int:
    """Start the demo if asked, run the app, and always clean up after it."""
    from .app import SessionTopApp
    from .store import Store

    fleet = None
    temp_dir: Path | None = None
    status = 0
    try:
        if args.demo:
            from .demo import DemoFleet

            if args.data_dir is None:
                temp_dir = Path(tempfile.mkdtemp(prefix="sessiontop-demo-"))
                data_dir = temp_dir
            else:
                data_dir = args.data_dir
            fleet = DemoFleet(data_dir, seed=args.seed, speed=args.speed)
            fleet.start()
            runtime_dir: Path | None = fleet.runtime_dir
        else:
            data_dir = args.data_dir or default_data_dir()
            runtime_dir = args.runtime_dir or default_runtime_dir()
            if data_dir.exists() and not data_dir.is_dir():
                print(f"sessiontop: {data_dir} is not a directory", file=sys.stderr)
                return 2
        # Without XDG_RUNTIME_DIR and HOME, tau's runtime dir is per process:
        # look for its socket anew each time the server is sought.
        socket = None if runtime_dir is not None else (lambda: find_socket(None))
        app = SessionTopApp(Store(data_dir, runtime_dir, socket=socket), poll=args.poll)
        try:
            app.run()
        except KeyboardInterrupt:
            pass
        status = app.return_code or 0
    finally:
        # The app's own signal handlers are gone now: a signal here unwinds too.
        _catch_exit_signals()
        if fleet is not None:
            fleet.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
    if args.demo and args.data_dir is not None:
        print(f"The demo store is kept in {args.data_dir}")
    return status


if __name__ == "__main__":
    sys.exit(main())
