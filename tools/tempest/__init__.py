"""Tempest against Nubis: ``python -m tools.tempest run`` (see doc/tempest.md)."""
