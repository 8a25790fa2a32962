"""Every host's tau in one view (issue 23): this machine's store and the remote hosts.

`Hosts` puts the local `tui.tau.store.Store` and one `tui.remote.source.RemoteSource`
per host behind the one API the app asks of a store, so the screens cannot tell
where a row comes from: they get snapshots whose rows name their host. `build`
turns the config's ``[hosts.NAME]`` tables and ``--host`` into sources; `marks`
puts each host's stalled sessions on its own rows. No Textual here.
"""

from __future__ import annotations

from .source import Hosts, HostsLive

__all__ = ["Hosts", "HostsLive"]
