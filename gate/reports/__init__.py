"""Rendering an `Evaluation` for people and machines: pure functions from result to text."""
