"""The demo fleet: a stand-in for a running tau server, files and socket.

Why: sessiontop reads tau's two SQLite files and talks to tau's Unix socket;
on a machine without tau there is nothing to watch. This package writes the
files exactly as tau persists them and serves tau's socket protocol from the
same process, so the dashboard, its tests and its benchmark run against
something that behaves like tau, no nicer.

Modules: ``content`` (what messages say), ``build`` (the initial fleet),
``replay`` (past turns for it), ``runs`` (one agent run, tick by tick),
``starts`` (a run's start, step by step in tau's order, for tests),
``board`` (the task board's walk), ``writer`` (tau's writes), ``fleet``
(``DemoFleet``), ``server`` (``TauServer``), ``protocol`` / ``dispatch`` /
``queries`` / ``tasks`` (requests and tau's answers), ``__main__``.

Data only: no Textual or Rich here (an import-linter contract says so).
"""

from .build import DemoState, build_demo_store
from .fleet import DemoFleet
from .server import TauServer
from .starts import RunStarts

__all__ = ["DemoFleet", "DemoState", "RunStarts", "TauServer", "build_demo_store"]
