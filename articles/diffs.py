"""Comparisons staff read: word by word for a field, paragraph by paragraph for an article body."""

import difflib
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from articles.sanitize import plain_paragraphs


def word_diff(old: str, new: str) -> SafeString:
    """Return an HTML word diff of two texts, deletions in <del> and insertions in <ins>."""
    old_words, new_words = old.split(), new.split()
    pieces = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(format_html("{}", " ".join(old_words[a1:a2])))
        if op in ("delete", "replace"):
            pieces.append(format_html("<del>{}</del>", " ".join(old_words[a1:a2])))
        if op in ("insert", "replace"):
            pieces.append(format_html("<ins>{}</ins>", " ".join(new_words[b1:b2])))
    return mark_safe(" ".join(pieces))  # noqa: S308 - every piece went through format_html


@dataclass(frozen=True)
class ParagraphChange:
    kind: str  # "same", "changed", "added" or "removed"
    html: SafeString


def paragraph_diff(old_html: str, new_html: str) -> list[ParagraphChange]:
    """Compare two bodies paragraph by paragraph; changed paragraphs carry a word diff."""
    old, new = plain_paragraphs(old_html), plain_paragraphs(new_html)
    changes = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            changes += [ParagraphChange("same", format_html("{}", text)) for text in old[a1:a2]]
            continue
        paired = min(a2 - a1, b2 - b1) if op == "replace" else 0
        for offset in range(paired):
            changes.append(ParagraphChange("changed", word_diff(old[a1 + offset], new[b1 + offset])))
        changes += [ParagraphChange("removed", format_html("{}", text)) for text in old[a1 + paired : a2]]
        changes += [ParagraphChange("added", format_html("{}", text)) for text in new[b1 + paired : b2]]
    return changes
