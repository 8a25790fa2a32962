"""sessiontop: a live terminal dashboard of tau agent sessions."""

__version__ = "0.1.0"
