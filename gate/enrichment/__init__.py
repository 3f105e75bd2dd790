"""Exploit intelligence for vulnerability ids: Inspector, CISA KEV, FIRST EPSS, and their cache."""
