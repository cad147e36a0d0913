"""Text search over titles and descriptions, Chinese included, as sets of character grams.

A text is indexed as its lower-cased characters and every pair of neighbouring ones; a query
matches a text holding all the query's grams (then the caller checks the text really
contains the query, since grams in another order would match too). One-character queries
use the character itself.
"""
from __future__ import annotations

MAX_INDEXED_CHARS = 2000  # a very long description is indexed by its beginning


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def grams(text: str) -> list[str]:
    """The grams to index for `text`."""
    chars = _normal(text)[:MAX_INDEXED_CHARS]
    found = {c for c in chars if not c.isspace()}
    found |= {chars[i:i + 2] for i in range(len(chars) - 1) if not chars[i:i + 2].isspace()}
    return sorted(found)


def query_grams(query: str) -> list[str]:
    """The grams every matching text holds."""
    chars = _normal(query)
    if len(chars) == 1:
        return [chars]
    return sorted({chars[i:i + 2] for i in range(len(chars) - 1)})


def normal_query(query: str) -> str:
    return _normal(query)
