"""A before/after photograph as a claim, in Chromium: a reviewer sees the photo beside its statement on the desk at
1280 px, grades and approves it like a cited sentence, signs off; patients on a phone read "Results vary" under it,
and axe-core finds nothing wrong on either page."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles import workflow
from articles.models import Article, PatientConsent
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, SCREENSHOTS, describe_violations
from tests.browser.test_authoring import log_in
from tests.browser.test_editorial_story import approve, open_from_queue, publish, sign_off, statement_card
from tests.browser.test_figure_story import media, new_page  # noqa: F401  (media: the fixture)
from tests.data import hostile_images
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    library_image,
    member_of,
    sitewide_disclaimer,
)

TITLE = "Healing a scar after a burn"
ALT = "A forearm with a red scar, and the same forearm with a paler, flatter scar"
CAPTION = "One patient's forearm before treatment and eight weeks after."


@pytest.mark.usefixtures("media")
def test_a_reviewer_approves_a_before_after_photo_and_patients_read_results_vary(browser, live_server, roles):
    reviewer, editor = member_of("Reviewers"), member_of("Editors")
    sitewide_disclaimer()
    ReferenceFactory(citation_key="hu2016", authors=[{"family": "Hu", "given": "Li"}], title="Wound healing in rats")
    photo = hostile_images.picture("PNG", size=(1200, 600))
    image = library_image(
        photo, "scar.png", title="Scar, before and after", alt_text=ALT, caption=CAPTION, credit="Clinic photograph",
        shows_patient=True, before_after=True,
    )  # fmt: skip
    PatientConsent.objects.create(
        image=image, consented_by="The patient", consented_on="2026-01-05", use="Website and leaflets",
        form_reference="CF-2026-120",
    )  # fmt: skip
    body = f"<p>In rats, wounds closed faster [@hu2016].</p><p>[[figure:{image.pk}]]</p>"
    article = ArticleFactory(title=TITLE, body=body, topics=[TopicFactory()])
    workflow.submit_for_review(article, by=editor)
    contexts = []
    try:
        # 1. On the desk the photograph is statement 2, shown beside its text; the reviewer grades it and signs off.
        context, desk = new_page(browser, live_server, DESKTOP)
        contexts.append(context)
        log_in(desk, reviewer)
        open_from_queue(desk, "Waiting for review", TITLE)
        card = statement_card(desk, 2)
        expect(card.locator(".statement-text")).to_have_text(
            f"[[figure:{image.pk}]] Before/after photograph: {CAPTION}"
        )
        shown = card.locator("figure.figure-claim img")
        expect(shown).to_have_attribute("alt", ALT)
        desk.wait_for_function(
            "() => { const img = document.querySelector('figure.figure-claim img');"
            " img.loading = 'eager'; return img.complete && img.naturalWidth > 0; }"
        )
        approve(desk, 1, level="E")
        approve(desk, 2, level="D")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shown.scroll_into_view_if_needed()
        desk.screenshot(path=SCREENSHOTS / "before-after-desk-1280.png", full_page=True)
        violations = Axe().run(desk, options=AXE_OPTIONS).response["violations"]
        assert not violations, describe_violations(violations)
        sign_off(desk)

        context, desk = new_page(browser, live_server, DESKTOP)
        contexts.append(context)
        log_in(desk, editor)
        open_from_queue(desk, "Signed off, ready to publish", TITLE)
        publish(desk)
        article.refresh_from_db()
        assert article.status == Article.Status.PUBLISHED

        # 2. A patient on a phone reads "Results vary" under the photograph.
        context, patient = new_page(browser, live_server, PHONE)
        contexts.append(context)
        patient.goto(article.get_absolute_url())
        caption = patient.locator("figure.article-figure figcaption")
        expect(caption.locator(".results-vary")).to_have_text(
            "Results vary: this shows one person's result, and yours may be different."
        )
        expect(caption.locator(".results-vary")).to_be_visible()
        expect(caption).to_contain_text(CAPTION)
        patient.locator("figure.article-figure").scroll_into_view_if_needed()
        patient.screenshot(path=SCREENSHOTS / "before-after-article-390.png", full_page=True)
        violations = Axe().run(patient, options=AXE_OPTIONS).response["violations"]
        assert not violations, describe_violations(violations)
    finally:
        for context in contexts:
            context.close()
