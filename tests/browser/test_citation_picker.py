import re
import tempfile
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import expect

from articles.models import Article
from tests.browser.test_authoring import log_in
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of

SCREENSHOT = Path(tempfile.gettempdir()) / "citation-picker.png"  # to look at; never in the repository


def test_writer_finds_a_reference_by_author_and_inserts_its_marker_at_the_cursor(page):
    writer = member_of("Writers")
    ReferenceFactory(
        citation_key="mahmoud2025",
        authors=[{"family": "Mahmoud", "given": "Rami H"}, {"family": "Eber", "given": "Ariel E"}],
        title="Exosomes: a comprehensive review for the practicing dermatologist",
    )
    ReferenceFactory(citation_key="hu2016", authors=[{"family": "Hu", "given": "Li"}], title="Wound healing in rats")
    article = ArticleFactory(
        author=writer, body="<p>Exosomes may help hair regrow.</p>", topics=[TopicFactory(name="Hair loss")]
    )

    log_in(page, writer)
    page.goto(reverse("admin:articles_article_change", args=[article.pk]))
    editor = page.locator(".field-body .prose-editor [contenteditable=true]")
    editor.click()
    expect(editor).to_be_focused()
    editor.press("Control+End")
    editor.press("ArrowLeft")  # before the full stop, where a citation goes
    page.wait_for_function(
        "() => { const s = getSelection(); const text = s.anchorNode && s.anchorNode.textContent;"
        " return !!text && text.endsWith('.') && s.anchorOffset === text.length - 1; }"
    )

    search = page.get_by_label("Cite a reference")
    search.fill("Mahmoud")
    expect(page.locator("#citation-picker-status")).to_have_text("1 reference found. Down arrow to choose.")
    results = page.locator("#citation-picker-results button")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("[@mahmoud2025]")
    page.screenshot(path=SCREENSHOT, full_page=True)
    search.press("ArrowDown")
    expect(results.first).to_be_focused()
    results.first.press("Enter")
    expect(page.locator("#citation-picker-status")).to_have_text("Inserted [@mahmoud2025] into the text.")
    expect(page.locator("#citation-live-check")).to_have_text("The citation key matches a reference.")

    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    article.refresh_from_db()
    assert article.body == "<p>Exosomes may help hair regrow [@mahmoud2025].</p>"
    assert Article.objects.get(pk=article.pk).citation_keys == ["mahmoud2025"]


def test_the_search_box_never_submits_the_article_and_tab_then_enter_inserts_at_the_end(page):
    writer = member_of("Writers")
    ReferenceFactory(citation_key="hu2016", authors=[{"family": "Hu", "given": "Li"}], title="Wound healing in rats")
    article = ArticleFactory(author=writer, body="<p>Wounds closed faster in rats.</p>", topics=[TopicFactory()])
    log_in(page, writer)
    page.goto(reverse("admin:articles_article_change", args=[article.pk]))
    search = page.get_by_label("Cite a reference")
    status = page.locator("#citation-picker-status")
    search.fill("nobody-by-this-name")
    search.press("Enter")
    expect(status).to_have_text("No reference matches. Check the spelling, or import the reference first.")
    expect(page).to_have_url(re.compile(rf"{reverse('admin:articles_article_change', args=[article.pk])}$"))
    expect(page.locator(".messagelist")).to_have_count(0)

    search.fill("hu")
    expect(status).to_have_text("1 reference found. Down arrow to choose.")
    search.press("Tab")
    page.keyboard.press("Enter")
    expect(status).to_have_text("Inserted [@hu2016] into the text.")
    # The writer never placed the cursor in the body: the marker goes at its end.
    expect(page.locator(".field-body .prose-editor [contenteditable=true]")).to_have_text(
        "Wounds closed faster in rats. [@hu2016]"
    )
