"""Spanish, in Chromium with the demo accounts (issue 17).

A patient switches the demo's wound-healing article to Spanish and back, at a phone and a desktop width. A writer
starts a Spanish translation of a live English article from its admin page, types the Spanish and submits it;
the reviewer approves each translated statement reading the English one beside it and signs off; an editor
publishes it, and patients can switch between the two. Then the English original is republished with a
changed claim, and the desk lists the Spanish page as out of date.

Pages are photographed (/tmp/translation-*.png) and the patient's pages checked with axe-core.
"""

import re
import tempfile
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles.models import Article
from tests.browser.test_accessibility import (  # noqa: F401
    AXE_OPTIONS,
    DESKTOP,
    PHONE,
    _live_server_helper,
    demo,
    demo_to_read,
    describe_violations,
)
from tests.browser.test_editorial_story import (
    approve,
    log_in,
    open_from_queue,
    publish,
    sign_off,
    statement_card,
    type_body,
)
from tests.browser.test_urgent_help_story import new_page
from tests.factories import ArticleFactory, publish_reviewed

ORIGINAL = "/articles/exosomes-wound-healing/"
SHOTS = Path(tempfile.gettempdir())
MICE = "In mice, wounds closed faster [@hu2016]."
EXPERTS = "Experts say more studies in people are needed [@mahmoud2025]."
RATONES = "En ratones, las heridas cerraron más rápido [@hu2016]."
EXPERTOS = "Los expertos dicen que faltan más estudios en personas [@mahmoud2025]."


def check(page, name: str) -> None:
    page.screenshot(path=SHOTS / f"translation-{name}.png", full_page=True)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{name}:\n{describe_violations(violations)}"


def switcher(page):
    return page.locator(".language-switcher")


@pytest.mark.parametrize(("width", "viewport"), [("390", PHONE), ("1280", DESKTOP)])
def test_a_patient_switches_an_article_to_spanish_and_back(browser, live_server, demo_to_read, width, viewport):  # noqa: F811
    context, page = new_page(browser, live_server, viewport)
    page.goto(ORIGINAL)
    english_title = page.locator("h1").inner_text()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switcher(page).get_by_role("link", name="Español").click()
    page.wait_for_url(re.compile(r"/es/articles/[^/]+/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).not_to_have_text(english_title)
    expect(page.get_by_role("link", name="Todos los artículos")).to_be_visible()
    expect(page.locator(".byline.reviewed-by")).to_contain_text("Revisado médicamente por")
    check(page, f"spanish-article-{width}")
    switcher(page).get_by_role("link", name="English").click()
    page.wait_for_url(f"**{ORIGINAL}")
    expect(page.locator("h1")).to_have_text(english_title)
    page.goto("/es/")
    check(page, f"spanish-home-{width}")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_translation_is_written_reviewed_beside_its_original_published_and_marked_out_of_date(
    browser,
    live_server,
    demo,  # noqa: F811
):
    original = ArticleFactory(
        title="Exosomes after surgery",
        slug="exosomes-after-surgery",
        body=f"<p>{MICE}</p><p>{EXPERTS}</p>",
        author=Article.objects.get(slug="exosomes-wound-healing").author,
    )
    original.topics.set(Article.objects.get(slug="exosomes-wound-healing").topics.all())
    publish_reviewed(original)
    _, writer = new_page(browser, live_server, DESKTOP)
    _, reviewer = new_page(browser, live_server, DESKTOP)
    _, editor = new_page(browser, live_server, DESKTOP)
    _, patient = new_page(browser, live_server, PHONE)

    # 1. The writer starts the translation from the original's admin page, types the Spanish and submits it.
    log_in(writer, "writer")
    writer.goto(f"/admin/articles/article/{original.pk}/change/")
    writer.get_by_role("button", name="Translate into Spanish").click()
    expect(writer.locator(".messagelist .success")).to_contain_text("Started the Spanish translation")
    expect(writer.locator("#id_language")).to_have_value("es")
    writer.fill("#id_title", "Exosomas después de una cirugía")
    writer.fill("#id_summary", "Lo que muestran los estudios en animales, y lo que no.")
    type_body(writer, RATONES, EXPERTOS)
    writer.screenshot(path=SHOTS / "translation-admin-writer-1280.png", full_page=True)
    writer.get_by_role("button", name="Save and submit for review").click()
    expect(writer.locator(".messagelist .success")).to_contain_text("Submitted for review")
    spanish = Article.objects.get(translation_of=original)

    # 2. The reviewer reads each Spanish statement beside the English one it translates, approves both, signs off.
    log_in(reviewer, "reviewer")
    open_from_queue(reviewer, "Waiting for review", "Exosomas después de una cirugía")
    expect(reviewer.locator("#translation-source")).to_contain_text("Exosomes after surgery")
    first = statement_card(reviewer, 1)
    expect(first.locator('blockquote[lang="es"]')).to_have_text(RATONES)
    expect(first.locator('blockquote[lang="en"]')).to_have_text(MICE)
    expect(statement_card(reviewer, 2).locator('blockquote[lang="en"]')).to_have_text(EXPERTS)
    reviewer.screenshot(path=SHOTS / "translation-desk-reviewer-1280.png", full_page=True)
    approve(reviewer, 1, level="E")
    approve(reviewer, 2, level="F")
    sign_off(reviewer)

    # 3. The editor publishes it; patients can switch between the two.
    log_in(editor, "editor")
    open_from_queue(editor, "Signed off, ready to publish", "Exosomas después de una cirugía")
    publish(editor)
    patient.goto("/articles/exosomes-after-surgery/")
    switcher(patient).get_by_role("link", name="Español").click()
    patient.wait_for_url(f"**/es/articles/{spanish.slug}/")
    expect(patient.locator("h1")).to_have_text("Exosomas después de una cirugía")
    check(patient, "new-spanish-article-390")

    # 4. The original is republished with a changed claim: the desk lists the translation as out of date.
    original.refresh_from_db()
    original.body = original.body.replace("closed faster", "closed a little faster")
    original.save()
    publish_reviewed(original)
    editor.goto("/review/")
    behind = editor.get_by_role("region", name=re.compile("^Translations out of date"))
    expect(behind.get_by_role("link", name="Exosomas después de una cirugía")).to_be_visible()
    behind.get_by_role("link", name="Exosomas después de una cirugía").click()
    expect(editor.locator("#out-of-date")).to_contain_text("the original was republished with changed statements")
    editor.screenshot(path=SHOTS / "translation-desk-out-of-date-1280.png", full_page=True)
