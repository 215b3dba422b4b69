"""Parcours services. Each imports ``shared`` and never another service."""
