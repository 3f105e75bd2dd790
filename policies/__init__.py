"""Shipped policies: installed as the package data `gate.policies` (see pyproject.toml)."""
