"""Article bodies of a chosen size, and the work a step does on them, for the body-size tests and
tests/perf/body_sizes.py.

A body is HTML as it is stored (sanitizing leaves it unchanged). It repeats one section (a heading, paragraphs
of cited and uncited sentences, a list, a link, a red-flag phrase and its negation) until it reaches the size
asked for, so each doubling doubles every kind of work (each section's statements are its own, numbered).
"""

import cProfile
import pstats

SECTION = (
    "<h2>Part {n}: what the research shows</h2>"
    "<p>Exosomes are tiny packages that cells release. In one small trial of {n} people, wounds healed faster "
    "[@{a}]. Early reports suggest fewer scars after treatment, e.g. in {n} people [@{a}; @{b}]. "
    'It is not a cure. See <a href="https://example.org/{n}" rel="noopener nofollow">the study summary '
    "[@{b}]</a> for details.</p>"
    "<ul><li>Some people had redness for a day [@{b}].</li><li>Ask your doctor about other options.</li></ul>"
    "<p>Dr. Smith et al. noted that results varied &amp; more work is needed. This breakthrough is "
    "guaranteed to work.</p>"
)


def large_body(size: int, keys: tuple[str, str] = ("mahmoud2025", "hu2016")) -> str:
    """Return a body of exactly `size` characters of HTML source, citing the two keys throughout."""
    sections, n = [], 0
    while sum(map(len, sections)) < size:
        sections.append(SECTION.format(n=n, a=keys[0], b=keys[1]))
        n += 1
    body = "".join(sections)
    return body[: body.rfind("<h2>", 0, size)] + _padding(size - body.rfind("<h2>", 0, size))


def _padding(length: int) -> str:
    """Return a paragraph of exactly `length` characters (at least 7) of plain words."""
    words = ("More words here. " * (length // 17 + 1))[: length - 7]
    return f"<p>{words}</p>"


def function_calls(action) -> int:
    """Return how many Python function calls `action()` makes: a measure of work a busy machine cannot change."""
    profile = cProfile.Profile()
    profile.runcall(action)
    return pstats.Stats(profile).total_calls
