"""`gate sweep`: many released builds re-judged with one policy and one set of feeds (docs/sweep.md)."""
