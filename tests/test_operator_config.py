"""The config file: its settings reach the app, flags override it, a chosen theme is kept,
and a bad file is refused in one line naming the line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FIXED_NOW, wait_for_text, wait_until
from tests.ptykit import ANY_MOTION_MOUSE, PtyApp
from tests.harness import make_app
from tests.storekit import StoreKit
from tests.test_operator_startup import one_line, run_cli
from tui.command.config import Config, load, parse
from tui.notify.settings import parse as notify_settings

SIZE = (120, 34)
FILE = '''# my sessiontop
theme = "textual-light"
sort = "priority"   # the urgent ones first
paused = true

[notify]
bell = false
'''


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "sessiontop" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def test_the_settings_reach_the_app_and_a_chosen_theme_is_kept(fleet: StoreKit, tmp_path: Path) -> None:
    path = write_config(tmp_path, FILE)
    config = load(path)
    assert config.notify == {"bell": False}
    assert notify_settings(config.notify).bell is False  # the [notify] table goes on as it is
    app = make_app(fleet, clock=lambda: FIXED_NOW,
                        config=config)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "Review the watcher debounce")
        assert app.theme == "textual-light"
        assert app.config.notify == {"bell": False}  # for tui.notify, as it was written
        assert "sort: priority" in text
        await wait_for_text(pilot, app, "PAUSED")
        app.theme = "nord"  # what choosing it in the palette (ctrl+p) does
        await wait_until(pilot, lambda: load(path).theme == "nord", what="the theme kept")
    kept = path.read_text()
    assert kept.startswith("# my sessiontop\n") and 'theme = "nord"\n' in kept
    assert "# the urgent ones first" in kept and load(path).notify == {"bell": False}


async def test_a_theme_chosen_with_no_file_makes_one(fleet: StoreKit, tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "sessiontop" / "config.toml"
    app = make_app(fleet, config=Config(path=path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        app.theme = "gruvbox"
        await wait_until(pilot, lambda: path.exists() and load(path).theme == "gruvbox",
                         what="a new file with the theme")


def test_flags_override_the_file(fleet: StoreKit, tmp_path: Path) -> None:
    write_config(tmp_path, 'sort = "priority"\nmouse = false\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    args = ("--data-dir", str(fleet.data_dir), "--runtime-dir", str(fleet.runtime_dir))
    app = PtyApp(*args, env=env)
    try:
        app.wait_for("sort: priority", "Review the watcher debounce")
        assert ANY_MOTION_MOUSE not in app.modes()  # mouse = false: no mouse reports asked
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()
    app = PtyApp(*args, "--sort", "id", "--mouse", env=env)
    try:
        app.wait_for("sort: id", "Review the watcher debounce")
        assert app.modes().get(ANY_MOTION_MOUSE)
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()


def test_a_bad_file_is_one_line_naming_the_line(fleet: StoreKit, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    args = ("--data-dir", str(fleet.data_dir))
    cases = {
        '# ok\ntheme = "nord"\nsort = "fastest"\n': "config.toml line 3: sort must be one of",
        'theme = "nord"\nmouse = "yes"\n': "config.toml line 2: mouse must be true or false",
        'poll = nan\n': "config.toml line 1: poll must be a number of seconds",
        'colour = 1\n': "config.toml line 1: colour is not a setting",
        'theme = "nord"\nsort = \n': "(at line 2, column 8)",
        '[notify\n': "(at line 1",
    }
    for text, said in cases.items():
        path = write_config(tmp_path, text)
        line = one_line(run_cli(*args, env=env))
        assert str(path) in line and said in line, (text, line)


def test_parse_reads_every_setting() -> None:
    config = parse('theme = "dracula"\nsort = "state"\nreverse = true\nmouse = false\n'
                   'poll = 2\npaused = true\n[notify]\ntoast = false\n', Path("c.toml"))
    assert config == Config(theme="dracula", sort="state", reverse=True, mouse=False, poll=2.0,
                            paused=True, notify={"toast": False}, path=Path("c.toml"))
