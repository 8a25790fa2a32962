"""Widgets that render snapshots; none of them reads the store."""
