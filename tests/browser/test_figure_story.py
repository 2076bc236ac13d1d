"""A figure from upload to patients, in Chromium: a writer uploads a picture with alt text and inserts it with the
figure picker, a reviewer approves and signs off, an editor publishes, and patients see it on a phone and a desktop
with its box sized before the picture arrives (no layout shift) and axe-core finding nothing wrong."""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from articles.models import Article, Image
from tests.browser.test_accessibility import AXE_OPTIONS, DESKTOP, PHONE, SCREENSHOTS, describe_violations
from tests.browser.test_authoring import log_in
from tests.browser.test_editorial_story import approve, open_from_queue, publish, sign_off
from tests.data import hostile_images
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of, sitewide_disclaimer

TITLE = "Exosomes and the layers of a wound"
ALT = "The skin's three layers, labelled: epidermis on top, dermis below, fat at the bottom"
CAPTION = "A wound heals from the dermis up."
# The sum of layout shifts (PerformanceObserver, buffered), as Chromium scores them: 0 when nothing moved.
LAYOUT_SHIFT = """() => new Promise((resolve) => {
    let total = 0;
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
    }).observe({ type: "layout-shift", buffered: true });
    setTimeout(() => resolve(total), 300);
})"""


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.SERVE_MEDIA = True  # the live server sends renditions, as the demo does
    return tmp_path


def new_page(browser, live_server, viewport=DESKTOP):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_a_figure_goes_from_upload_to_patients_without_layout_shift(browser, live_server, roles, media):
    writer, reviewer, editor = member_of("Writers"), member_of("Reviewers"), member_of("Editors")
    sitewide_disclaimer()
    ReferenceFactory(citation_key="hu2016", authors=[{"family": "Hu", "given": "Li"}], title="Wound healing in rats")
    article = ArticleFactory(
        title=TITLE, author=writer, body="<p>In rats, wounds closed faster [@hu2016].</p>", topics=[TopicFactory()]
    )
    contexts = []
    try:
        # 1. The writer uploads the picture with its alt text and caption.
        context, page = new_page(browser, live_server)
        contexts.append(context)
        log_in(page, writer)
        page.goto("/admin/articles/image/add/")
        page.fill("#id_title", "Layers of the skin")
        page.fill("#id_alt_text", ALT)
        page.fill("#id_caption", CAPTION)
        page.fill("#id_credit", "Clinic's own drawing")
        drawing = hostile_images.picture("PNG", size=(1200, 600))
        page.set_input_files(
            "#id_upload", files=[{"name": "skin-layers.png", "mimeType": "image/png", "buffer": drawing}]
        )
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        image = Image.objects.get()

        # 2. ... inserts it with the figure picker after the paragraph the cursor is in, and submits.
        page.goto(f"/admin/articles/article/{article.pk}/change/")
        body = page.locator(".field-body .prose-editor [contenteditable=true]")
        body.click()
        expect(body).to_be_focused()
        body.press("Control+End")
        search = page.get_by_label("Insert a figure")
        search.fill("layers")
        expect(page.locator("#figure-picker-status")).to_have_text("1 picture found. Down arrow to choose.")
        results = page.locator("#figure-picker-results button")
        expect(results.first).to_contain_text(f"[[figure:{image.pk}]]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "figure-picker.png", full_page=True)
        results.first.click()
        expect(page.locator("#figure-picker-status")).to_have_text(
            f"Inserted [[figure:{image.pk}]] (Layers of the skin) into the text."
        )
        expect(body.locator("p")).to_have_text(["In rats, wounds closed faster [@hu2016].", f"[[figure:{image.pk}]]"])
        page.get_by_role("button", name="Save and submit for review").click()
        expect(page.locator(".messagelist .success")).to_contain_text("Submitted for review")
        article.refresh_from_db()
        assert article.body.endswith(f"<p>[[figure:{image.pk}]]</p>")
        assert article.status == Article.Status.IN_REVIEW

        # 3. A reviewer approves the statement and signs off; an editor publishes.
        context, desk = new_page(browser, live_server)
        contexts.append(context)
        log_in(desk, reviewer)
        open_from_queue(desk, "Waiting for review", TITLE)
        approve(desk, 1, level="E")
        sign_off(desk)
        context, desk = new_page(browser, live_server)
        contexts.append(context)
        log_in(desk, editor)
        open_from_queue(desk, "Signed off, ready to publish", TITLE)
        publish(desk)
        article.refresh_from_db()
        assert [f["image"] for f in article.live_snapshot.figures] == [image.pk]

        # 4. Patients see it, its box sized before the picture arrives.
        held = []  # the requests for renditions, answered only once the page's box has been measured
        for viewport in (PHONE, DESKTOP):
            context, patient = new_page(browser, live_server, viewport)
            contexts.append(context)
            held.clear()
            patient.route("**/media/images/renditions/**", lambda route: held.append(route))
            patient.goto(article.get_absolute_url(), wait_until="domcontentloaded")
            picture = patient.locator("figure.article-figure img")
            expect(picture).to_have_attribute("alt", ALT)
            expect(patient.locator("figure.article-figure figcaption")).to_have_text(
                f"{CAPTION} · Clinic's own drawing"
            )
            before = picture.bounding_box()
            assert not picture.evaluate("img => img.complete && img.naturalWidth > 0")  # not loaded yet
            assert before["height"] > 0
            assert abs(before["width"] / before["height"] - 2) < 0.02  # 1200 × 600, kept without the picture
            assert before["x"] + before["width"] <= viewport["width"]
            patient.wait_for_timeout(200)
            assert held  # the browser asked for the picture, and was kept waiting while the box was measured
            for route in held:
                route.continue_()
            patient.unroute("**/media/images/renditions/**")
            patient.wait_for_function(
                "() => { const img = document.querySelector('figure.article-figure img');"
                " return img.complete && img.naturalWidth > 0; }"
            )
            after = picture.bounding_box()
            assert (after["x"], after["y"], after["width"], after["height"]) == pytest.approx(
                (before["x"], before["y"], before["width"], before["height"]), abs=0.5
            )
            assert picture.evaluate("img => img.currentSrc").endswith(".webp")
            assert patient.evaluate(LAYOUT_SHIFT) == pytest.approx(0, abs=0.001)
            patient.screenshot(path=SCREENSHOTS / f"figure-article-{viewport['width']}.png", full_page=True)
            violations = Axe().run(patient, options=AXE_OPTIONS).response["violations"]
            assert not violations, describe_violations(violations)
    finally:
        for context in contexts:
            context.close()
