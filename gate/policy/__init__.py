"""Policies: the YAML language, its expressions, and the engine that decides each finding."""
