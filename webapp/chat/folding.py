"""Text folded for search: what ``messages.search_text`` holds and queries are made of.

Compatibility-decomposed (NFKD: full-width letters become plain ones, ligatures letters), accents
and other combining marks dropped, case folded, runs of white space made one space. So "Café",
"CAFE" and "ｃａｆｅ" all fold to "cafe"; scripts without case or accents (CJK) stay as written.
"""
from __future__ import annotations

import unicodedata


def _fold_char(char: str) -> str:
    if char.isspace():
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fold(text_: str) -> str:
    """What is stored in ``search_text`` and what queries are made of (see the module's doc)."""
    if text_.isascii():  # the common case, at C speed
        return " ".join(text_.lower().split())
    return " ".join("".join(_fold_char(c) for c in text_).split())


def _folded_with_origins(text_: str) -> tuple[str, list[int]]:
    """``fold(text_)``, and for each of its characters the index in ``text_`` it came from."""
    out: list[str] = []
    origins: list[int] = []
    for i, char in enumerate(text_):
        for f in _fold_char(char):
            if f == " " and (not out or out[-1] == " "):
                continue  # leading or repeated white space
            out.append(f)
            origins.append(i)
    if out and out[-1] == " ":
        out.pop()
        origins.pop()
    return "".join(out), origins


def highlight(text_: str, terms: list[str]) -> list[list[int]]:
    """Where the terms occur in ``text_``: sorted, merged ``[start, end)`` ranges of code points."""
    folded, origins = _folded_with_origins(text_)
    spans = []
    for term in terms:
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            last = origins[end - 1] + 1
            while last < len(text_) and unicodedata.combining(text_[last]):
                last += 1  # an accent written as a mark after its letter belongs to the match
            spans.append([origins[start], last])
            start = folded.find(term, end)
    spans.sort()
    merged: list[list[int]] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span[1])
        else:
            merged.append(span)
    return merged
