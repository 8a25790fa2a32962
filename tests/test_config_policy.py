"""One policy for every key of the config file: a value that cannot work stops
sessiontop at start with one line naming the file, the line and why, whether it
is a top-level value or one in ``[notify]``, and for the dashboard as for
``list`` (README, "Settings"). Run as an operator runs it: the real command
line, no terminal."""

from __future__ import annotations

from pathlib import Path

from tests.storekit import StoreKit
from tests.test_operator_startup import one_line, run_cli

BAD = {  # the file, and what its one line says
    'theme = "nord"\nmouse = "yes"\n': "config.toml line 2: mouse must be true or false",
    '# quiet\ntheme = "nord"\n\n[notify]\ntoast = true\nbell = "no"\n':
        "config.toml line 6: notify.bell must be true or false",
    '[notify]\nevents = ["exit", "explode"]\n': "config.toml line 2: notify.events: unknown explode",
    'sort = "id"\n[notify]\nbel = false\n': "config.toml line 3: notify.bel: unknown setting",
    '[notify]\nstall_minutes = { worker = -3 }\n[hosts.gpu1]\nssh = "me@gpu1"\n':
        "config.toml line 2: notify.stall_minutes: each value must be a positive number",
}


def test_a_bad_value_anywhere_in_the_file_stops_the_start_in_one_line(kit: StoreKit, tmp_path: Path) -> None:
    path = tmp_path / "config" / "sessiontop" / "config.toml"
    path.parent.mkdir(parents=True)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    for text, said in BAD.items():
        path.write_text(text)
        for args in (("--data-dir", str(kit.data_dir)), ("list", "--data-dir", str(kit.data_dir))):
            line = one_line(run_cli(*args, env=env))
            assert str(path) in line and said in line, (args, text, line)
