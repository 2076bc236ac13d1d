"""Parse each text once within one step: publishing reads an article's body and key points in many places.

The review read model, the claim checks, the evidence labels, the content hash, the snapshot's plain text and
the lock on the cited references each ask for the markers, the sentences or the paragraphs of the same text.
Inside a `parse_once()` block (`workflow.publish` and `review_status` open one), the parsers that go through
`parsed` hand back what they found the first time they read a text; outside one they parse every time.

The memo is keyed by the text itself and lives only as long as the block, so an edited text is parsed afresh
and nothing outlives the step. What it hands back is shared: callers read it and never change it.
"""

import contextlib
import contextvars
from collections.abc import Callable
from typing import TypeVar

Parsed = TypeVar("Parsed")

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("parse_once_memo", default=None)


@contextlib.contextmanager
def parse_once():
    """Within this block (or decorated function), parse each text once; a nested block shares the outer memo."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def parsed(parser: Callable[..., Parsed], *arguments) -> Parsed:
    """Return `parser(*arguments)`, from the memo when the same parser read the same arguments in this block."""
    memo = _memo.get()
    if memo is None:
        return parser(*arguments)
    key = (parser, arguments)
    if key not in memo:
        memo[key] = parser(*arguments)
    return memo[key]
