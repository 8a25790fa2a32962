"""Start-up mistakes are refused at once, in one line that says what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ptykit import REPO


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, no terminal: a refusal must come before any screen."""
    # Not the developer's own config file: a test says what it wants.
    full_env = dict(os.environ, XDG_CONFIG_HOME=str(REPO / "tests" / "no-config-here"))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and not result.stdout
    return lines[0]


def test_a_data_dir_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tau"
    line = one_line(run_cli("--data-dir", str(missing)))
    assert f"{missing} does not exist" in line
    assert "Start tau" in line and "--demo" in line


def test_the_default_data_dir_on_a_machine_without_tau(tmp_path: Path) -> None:
    line = one_line(run_cli(env={"XDG_DATA_HOME": str(tmp_path / "share"), "HOME": str(tmp_path)}))
    assert f"{tmp_path / 'share' / 'tau'} does not exist" in line
    assert "tau has not run here" in line and "--demo" in line


def test_a_data_dir_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tau"
    path.write_text("")
    assert f"{path} is not a directory" in one_line(run_cli("--data-dir", str(path)))


@pytest.mark.parametrize("flag,value", [
    ("--poll", "nan"), ("--poll", "inf"), ("--poll", "-1"), ("--poll", "0"), ("--poll", "1e9"),
    ("--poll", "soon"), ("--speed", "nan"), ("--speed", "-inf"), ("--speed", "0"), ("--speed", "1e6"),
])
def test_non_finite_or_absurd_numbers(tmp_path: Path, flag: str, value: str) -> None:
    line = one_line(run_cli("--data-dir", str(tmp_path), f"{flag}={value}"))
    assert flag in line and repr(value) in line
