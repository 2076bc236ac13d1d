from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.urls import reverse

from articles import admin as article_admin
from tests.browser.test_accessibility import AXE_OPTIONS, describe_violations
from tests.browser.test_authoring import log_in
from tests.factories import ArticleFactory, ReferenceFactory, UserFactory

LONG_WORDS_TITLE = ("Extracellular-vesicle-derived-regenerative-treatments " * 4).strip()[:200]


def overlap(box, other) -> bool:
    return not (
        box["x"] + box["width"] <= other["x"]
        or other["x"] + other["width"] <= box["x"]
        or box["y"] + box["height"] <= other["y"]
        or other["y"] + other["height"] <= box["y"]
    )


def test_a_long_title_wraps_clear_of_the_buttons_and_a_long_paste_is_not_cut(page):
    writer = UserFactory(is_staff=True)
    writer.groups.add(Group.objects.get(name="Writers"))
    article = ArticleFactory(title=LONG_WORDS_TITLE, author=writer)
    page.set_viewport_size({"width": 1024, "height": 800})
    log_in(page, writer)
    page.goto(reverse("admin:articles_article_change", args=[article.pk]))

    heading = page.locator("#content h2").first.bounding_box()
    for button in page.locator(".object-tools li").all():
        assert not overlap(heading, button.bounding_box())
    assert heading["x"] + heading["width"] <= 1024

    pasted = " ".join(["Exosomes"] * 45)
    page.fill("#id_title", pasted)
    assert len(page.input_value("#id_title")) == len(pasted)
    page.click("input[name=_continue]")
    expect_error = article_admin.TOO_LONG % {"limit_value": 200, "show_value": len(pasted)}
    assert expect_error in page.locator(".field-title .errorlist").inner_text()


def test_reference_authors_are_edited_as_rows_in_the_browser(page):
    writer = UserFactory(is_staff=True)
    writer.groups.add(Group.objects.get(name="Writers"))
    reference = ReferenceFactory()
    log_in(page, writer)
    page.goto(reverse("admin:articles_reference_change", args=[reference.pk]))
    rows = Axe().run(page, context={"include": [".author-rows"]}, options=AXE_OPTIONS).response["violations"]
    assert not rows, describe_violations(rows)
    page.get_by_label("Author 1: Given names or initials").fill("Rami Hassan")
    page.get_by_label("Author 2: Remove").check()
    page.get_by_label("Author 3: or organisation").fill("Exosome Study Group")
    page.get_by_label("Author 3: Position").fill("1")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    reference.refresh_from_db()
    assert reference.authors == [{"literal": "Exosome Study Group"}, {"family": "Mahmoud", "given": "Rami Hassan"}]
