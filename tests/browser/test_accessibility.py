"""Accessibility of the public patient pages, checked in Chromium against the seeded demo content.

Each public page is opened at a phone width and a desktop width, photographed (test-results/screenshots/,
git-ignored) and checked with axe-core for WCAG 2.0, 2.1 and 2.2 level A and AA problems. The pages
must also have the structure assistive technology relies on: one <h1>, a language, a <main> landmark,
a skip link first in the tab order, and a title that names the clinic.
"""

import importlib
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from articles.models import Page

DEFAULT_PAGES = importlib.import_module("articles.migrations.0006_patient_site").DEFAULT_PAGES
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"

# name: (path, expected HTTP status)
PAGES = {
    "home": ("/", 200),
    "topic": ("/topics/exosome-therapy/", 200),
    "article": ("/articles/exosomes-wound-healing/", 200),
    "search": ("/search/?q=exosomes", 200),
    "about": ("/about/editorial-policy/", 200),
    "corrections": ("/corrections/", 200),
    "404": ("/articles/no-such-article/", 404),
    # The Spanish site (issue 17): the demo's translated article, and the pages every language has.
    "es-home": ("/es/", 200),
    "es-topic": ("/es/topics/exosome-therapy/", 200),
    "es-article": ("/es/articles/exosomas-cicatrizacion-de-heridas/", 200),
    "es-search": ("/es/search/?q=cicatrización", 200),
    "es-about": ("/es/about/politica-editorial/", 200),
    "es-corrections": ("/es/corrections/", 200),
    "es-404": ("/es/articles/no-such-article/", 404),
}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_A_AA}, "resultTypes": ["violations"]}
NODES_SHOWN = 5

# The elements whose right edge lies past `limit` pixels, widest first, named by tag, id and classes.
ELEMENTS_PAST = """(limit) => Array.from(document.querySelectorAll("body *"))
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([el, box]) => box.right > limit + 0.5)
    .sort((a, b) => b[1].right - a[1].right)
    .slice(0, 8)
    .map(([el, box]) => {
        const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
        const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + classes.map((c) => "." + c).join("");
        return `${name} (right edge ${Math.round(box.right)}px)`;
    })"""


def seed_demo() -> None:
    with override_settings(DEBUG=True):
        call_command("seed_demo", verbosity=0)
    # Migration 0006 creates the default policy pages; the flush after an earlier transactional test removes them.
    for position, (slug, title, body) in enumerate(DEFAULT_PAGES):
        Page.objects.get_or_create(slug=slug, defaults={"title": title, "body": body, "position": position})


@pytest.fixture
def demo(roles):
    """The demo content, seeded afresh for a test that changes it: a transactional test's flush removes it."""
    seed_demo()


@pytest.fixture
def _live_server_helper(live_server):
    """pytest-django's own helper, less the transactional_db it gives every live-server test.

    That fixture empties the database after each test; a module that uses demo_to_read imports this one, so its
    seeded rows last until the module's end.
    """
    live_server._live_server_modified_settings.enable()  # the live server's host in ALLOWED_HOSTS, as upstream
    yield
    live_server._live_server_modified_settings.disable()


@pytest.fixture(scope="module")
def demo_to_read(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo content, seeded once for a module whose tests only read it, and flushed after its last test.

    The live server reads through a connection of its own, so the rows are committed rather than rolled back (as in
    tests/test_admin_walk.py); the flush then leaves the database as a transactional test does. A test that
    changes the content, or flushes, must not share a module with this fixture; the module imports
    _live_server_helper from here for its tests to keep the rows.
    """
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    media = override_settings(MEDIA_ROOT=tmp_path_factory.getbasetemp() / "media")  # as conftest's, per test
    with django_db_blocker.unblock(), fast_hashing, media:
        try:
            seed_demo()
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0)
            connection.close()  # as a transactional test's teardown does, or dropping the test database waits on it


def open_page(browser, live_server, viewport, name):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    path, status = PAGES[name]
    response = page.goto(path)
    assert response is not None, f"{name} ({path}): no response"
    assert response.status == status, f"{name} ({path}): expected HTTP {status}, got {response.status}"
    return context, page


def describe_violations(violations):
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"][:NODES_SHOWN]:
            target = " >> ".join(str(part) for part in node["target"])
            lines.append(f"      {target}: {node.get('failureSummary', '').replace(chr(10), ' ')}")
        if len(violation["nodes"]) > NODES_SHOWN:
            lines.append(f"      ... and {len(violation['nodes']) - NODES_SHOWN} more")
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone-390", "desktop-1280"])
def test_public_pages_have_no_wcag_a_or_aa_violations(browser, live_server, demo_to_read, viewport):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    failures = []
    for name in PAGES:
        context, page = open_page(browser, live_server, viewport, name)
        try:
            page.screenshot(path=SCREENSHOTS / f"{name}-{viewport['width']}.png", full_page=True)
            violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
        finally:
            context.close()
        if violations:
            failures.append(f"{name} ({PAGES[name][0]}) at {viewport['width']}px:\n{describe_violations(violations)}")
    assert not failures, "axe found WCAG A/AA violations:\n" + "\n".join(failures)


def test_public_pages_have_the_structure_assistive_technology_relies_on(browser, live_server, demo_to_read):
    clinic = settings.CLINIC["name"]
    failures = []
    for name in PAGES:
        context, page = open_page(browser, live_server, DESKTOP, name)
        try:
            problems = []
            if (count := page.locator("h1").count()) != 1:
                problems.append(f"{count} <h1> elements, not exactly one")
            expected = "es" if name.startswith("es-") else "en"
            if (lang := page.locator("html").get_attribute("lang")) != expected:
                problems.append(f'<html lang="{lang}">, not lang="{expected}"')
            if (count := page.get_by_role("main").count()) != 1:
                problems.append(f"{count} <main> landmarks, not exactly one")
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => { const el = document.activeElement;"
                " return el ? {tag: el.tagName, href: el.getAttribute('href') || '', text: el.textContent.trim()}"
                " : null; }"
            )
            if not focused or not focused["href"].endswith("#main"):
                problems.append(f"the first Tab focuses {focused}, not a skip link to #main")
            title = page.title()
            if name in ("home", "es-home"):
                if clinic not in title:
                    problems.append(f"title {title!r} does not name the clinic {clinic!r}")
            elif not title.endswith(f" - {clinic}"):
                problems.append(f"title {title!r} does not end with {' - ' + clinic!r}")
        finally:
            context.close()
        if problems:
            failures.append(f"{name} ({PAGES[name][0]}): " + "; ".join(problems))
    assert not failures, "Pages lack accessible structure:\n" + "\n".join(failures)


def test_article_does_not_scroll_sideways_on_a_phone(browser, live_server, demo_to_read):
    context, page = open_page(browser, live_server, PHONE, "article")
    try:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        # Name the widest culprits, so a failure says what to fix.
        too_wide = page.evaluate(ELEMENTS_PAST, PHONE["width"])
    finally:
        context.close()
    assert scroll_width <= PHONE["width"], (
        f"The article scrolls sideways at {PHONE['width']}px: scrollWidth is {scroll_width}px. "
        f"Widest elements: {too_wide}"
    )
