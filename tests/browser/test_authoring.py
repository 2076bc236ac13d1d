from io import StringIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from articles import citations
from articles.models import Article
from tests.factories import PASSWORD, ReferenceFactory, UserFactory


def log_in(page, user, password=PASSWORD):
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_writer_writes_an_article_with_citations_and_sees_the_reference_list(page):
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=StringIO())  # the demo writer, and references through the importers
    writer = get_user_model().objects.get(username="writer")

    log_in(page, writer, password="writer-demo-pass")
    page.goto("/admin/articles/article/add/")
    page.fill("#id_title", "Exosomes and wound healing")
    page.fill("#id_summary", "What lab and animal studies show, and what is still unknown.")
    editor = page.locator(".field-body .prose-editor [contenteditable=true]")
    editor.click()
    editor.press_sequentially("In rats, wounds closed faster [@hu2016; @mahmoud2025]. ")
    editor.press("Enter")
    editor.press_sequentially("Reviews agree that studies in people are lacking [@mahmoud2025].")
    page.select_option("#id_topics_from", label="Exosome therapy")
    page.click("#id_topics_add")
    page.click("input[name=_continue]")

    page.wait_for_selector(".reference-list")
    assert page.locator(".messagelist .success").count() == 1
    items = page.locator(".reference-list li")
    assert items.count() == 2
    assert "doi:10.1038/srep32993" in items.nth(0).inner_text()  # [@hu2016; @mahmoud2025]: hu2016 is cited first
    assert (
        items.nth(1)
        .inner_text()
        .startswith(
            "Mahmoud RH, Peterson E, Badiavas EV, Kaminer M, Eber AE. Exosomes: A Comprehensive Review for the "
            "Practicing Dermatologist. Journal of Clinical and Aesthetic Dermatology. 2025;18(4):33-40."
        )
    )
    article = Article.objects.get(slug="exosomes-and-wound-healing")
    assert article.citation_keys == ["hu2016", "mahmoud2025"]


def test_writer_is_told_about_an_unknown_key_while_typing(page):
    writer = UserFactory(is_staff=True)
    writer.groups.add(Group.objects.get(name="Writers"))
    ReferenceFactory(citation_key="hu2016")

    log_in(page, writer)
    page.goto("/admin/articles/article/add/")
    editor = page.locator(".field-body .prose-editor [contenteditable=true]")
    editor.click()
    expect(editor).to_be_focused()
    editor.press_sequentially("Wounds closed faster in rats [@hu2016; @hu2061].")

    status = page.locator("#citation-live-check")
    expect(status).to_have_text(citations.UNKNOWN_KEY.format(key="hu2061", suggestion=" Did you mean hu2016?"))
    editor.press("Control+a")
    editor.press_sequentially("Wounds closed faster in rats [@hu2016; @hu2016 ].")  # a repeated key is one reference
    expect(status).to_have_text("The citation key matches a reference.")
    assert not Article.objects.exists()  # nothing was saved to find this out
