"""Signed decisions: in-toto statements of a verdict in DSSE envelopes, their keys, and reading them back.

A layer of its own below `actions`: the attest action writes these documents, `gate verify` and the
baseline reader read them, and none of them may depend on each other.
"""
