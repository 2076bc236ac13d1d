"""Corrections (issue 15): the writer's one-sentence note, pinned by the review, frozen and shown to patients."""

import re
import shutil

import pytest
from django.urls import reverse
from django.utils import timezone

from articles import patient_visible, structured_data, workflow
from articles.models import CORRECTION_NOT_LIVE, TOO_LONG, Article, AuditEvent, PublishedSnapshot
from articles.views import CORRECTIONS_PER_PAGE
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    admin_form_data,
    live_article,
    review,
    sitewide_disclaimer,
)
from tests.tools import missing

pytestmark = pytest.mark.django_db

CORRECTIONS_PAGE_QUERIES = 3  # the count; the page of corrections with their live titles; the footer pages
DOSE = "We corrected the dose of vitamin D from 4,000 to 400 units a day."


def corrected_on(snapshot: PublishedSnapshot) -> str:
    """Return the date patients read in "Corrected on 3 December 2026: ..." for this snapshot."""
    return f"{timezone.localtime(snapshot.published_at):%-d %B %Y}"


def save_in_admin(client, user, article: Article, **changes):
    client.force_login(user)
    url = reverse("admin:articles_article_change", args=[article.pk])
    return client.post(url, {**admin_form_data(article), "_save": "Save", **changes})


def correct(client, article: Article, note: str, *, editor) -> PublishedSnapshot:
    """Edit the live article with a note as its writer, review it again and publish it: return the snapshot."""
    body = article.body.replace("</p>", " Corrected.</p>", 1)
    response = save_in_admin(client, article.author, article, body=body, correction_note=note)
    assert response.status_code == 302, response.content.decode()[:2000]
    article.refresh_from_db()
    review(article)
    return workflow.publish(article, by=editor)


@pytest.fixture
def live(writer):
    return live_article(author=writer)


# --- The note in the working copy ---------------------------------------------------------------------------


def test_the_note_is_saved_as_plain_text(live):
    live.correction_note = '<p onclick="x()">We fixed <script>alert(1)</script>the <b>dose</b>.</p>'
    live.save()
    live.refresh_from_db()
    assert live.correction_note == "We fixed the dose."


def test_a_note_too_long_is_refused_with_its_length_and_nothing_is_saved(client, live):
    note = "x" * 301
    response = save_in_admin(client, live.author, live, summary="A new summary.", correction_note=note)
    assert response.status_code == 200
    assert TOO_LONG % {"show_value": 301, "limit_value": 300} in response.content.decode()
    live.refresh_from_db()
    assert (live.correction_note, live.summary) == ("", "What studies show.")


def test_a_note_on_an_article_patients_cannot_read_is_refused(client, writer):
    draft = ArticleFactory(author=writer, topics=[TopicFactory()])
    response = save_in_admin(client, writer, draft, correction_note=DOSE)
    assert response.status_code == 200
    assert CORRECTION_NOT_LIVE in response.content.decode()
    draft.refresh_from_db()
    assert draft.correction_note == ""


def test_a_blank_note_adds_nothing_to_the_hash_so_no_sign_off_is_withdrawn(live, monkeypatch):
    assert "correction_note" not in patient_visible.hashed(live, cited=[])
    with_entry = live.content_hash()
    before = tuple(entry for entry in patient_visible.VISIBLE if entry.name != "correction_note")
    monkeypatch.setattr(patient_visible, "VISIBLE", before)
    assert live.content_hash() == with_entry  # the hash as it was before the entry existed
    monkeypatch.undo()
    status = workflow.review_status(live)
    assert status.sign_off is not None
    assert status.live_as_it_stands


def test_a_note_changes_the_content_hash_so_the_sign_off_must_be_renewed(client, live, editor):
    signed_hash = live.content_hash()
    response = save_in_admin(client, live.author, live, correction_note=DOSE)
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.content_hash() != signed_hash
    assert live.status == Article.Status.DRAFT  # edited after publication: back through review
    with pytest.raises(workflow.WorkflowError):
        workflow.publish(live, by=editor)
    review(live)
    assert workflow.publish(live, by=editor).is_correction


# --- Publishing a correction ----------------------------------------------------------------------------------


def test_publishing_with_a_note_makes_a_correction_and_shows_it_on_the_page(client, live, editor):
    snapshot = correct(client, live, DOSE, editor=editor)
    assert (snapshot.is_correction, snapshot.correction_note) == (True, DOSE)
    live.refresh_from_db()
    assert live.correction_note == ""  # the next edit starts blank
    # The working copy is still what patients see: an unchanged save does not reopen it.
    assert workflow.review_status(live).live_as_it_stands
    assert workflow.record_edit(live, by=live.author) == Article.Status.PUBLISHED
    event = AuditEvent.objects.filter(article=live, action="articles.article.publish").latest("at")
    assert event.message == f"Correction: {DOSE}"

    client.logout()
    page = client.get(live.get_absolute_url()).content.decode()
    assert re.search(rf"Corrected on <time[^>]*>{corrected_on(snapshot)}</time>:</strong> {re.escape(DOSE)}", page)
    start = page.index("<header>")
    header = page[start : page.index("</header>", start)]
    assert header.index('class="meta dates"') < header.index("Corrected on")
    assert reverse("articles:correction_list") in header


def test_a_second_correction_shows_both_newest_first(client, live, editor):
    first = correct(client, live, "We corrected the dose.", editor=editor)
    live.refresh_from_db()
    second = correct(client, live, "We added that it is not for children.", editor=editor)
    assert second.earlier_corrections == [{"at": first.published_at.isoformat(), "note": "We corrected the dose."}]
    client.logout()
    page = client.get(live.get_absolute_url()).content.decode()
    assert page.index("not for children") < page.index("We corrected the dose.")
    assert page.count("Corrected on") == 2


def test_an_update_without_a_note_is_no_correction_but_keeps_the_earlier_ones(client, live, editor):
    correct(client, live, DOSE, editor=editor)
    live.refresh_from_db()
    update = correct(client, live, "", editor=editor)
    assert not update.is_correction
    assert [c["note"] for c in update.corrections] == [DOSE]


def test_a_note_reaching_a_first_publication_is_frozen_but_no_correction(editor, writer):
    sitewide_disclaimer()
    article = ArticleFactory(author=writer, topics=[TopicFactory()], body="<p>Plain words.</p>")
    article.correction_note = DOSE  # from a shell: the admin form refuses it (CORRECTION_NOT_LIVE)
    article.save()
    review(article)
    snapshot = workflow.publish(article, by=editor)
    assert (snapshot.is_correction, snapshot.corrections) == (False, [])
    article.refresh_from_db()
    assert workflow.review_status(article).live_as_it_stands


def test_the_page_says_it_in_json_ld(client, live, editor):
    snapshot = correct(client, live, DOSE, editor=editor)
    data = structured_data.medical_web_page(snapshot, url="https://example.org/")
    assert data["correction"] == [
        {"@type": "CorrectionComment", "text": DOSE, "datePublished": snapshot.published_at.isoformat()}
    ]
    assert "correction" not in structured_data.medical_web_page(live.snapshots.earliest(), url="https://example.org/")


# --- Staff see it before it is published ----------------------------------------------------------------------


def test_the_reviewer_and_the_editor_see_the_note_before_it_is_published(client, live, reviewer, editor):
    save_in_admin(client, live.author, live, correction_note=DOSE)
    live.refresh_from_db()
    workflow.submit_for_review(live, by=live.author)
    client.force_login(reviewer)
    desk = client.get(reverse("articles:review_article", args=[live.pk])).content.decode()
    assert f"This republication is a correction:</strong> “{DOSE}”" in desk
    client.force_login(editor)
    form = client.get(reverse("admin:articles_article_change", args=[live.pk])).content.decode()
    assert "A correction:" in form
    assert "What changed, for patients, in one sentence" in form


def test_a_drafts_note_never_shows_to_patients(client, live):
    save_in_admin(client, live.author, live, correction_note=DOSE)
    client.logout()
    assert DOSE not in client.get(live.get_absolute_url()).content.decode()
    assert DOSE not in client.get(reverse("articles:correction_list")).content.decode()


# --- /corrections/ ------------------------------------------------------------------------------------------


def corrections_of(count: int, *, editor) -> list[PublishedSnapshot]:
    """Make `count` corrections of live articles, oldest first."""
    made = []
    for number in range(count):
        article = live_article(title=f"Article {number}", reference=ReferenceFactory())
        article.correction_note = f"Correction number {number}."
        article.save()
        workflow.record_edit(article, by=article.author)
        review(article)
        made.append(workflow.publish(article, by=editor))
    return made


@pytest.mark.parametrize("count", [1, 30])
def test_the_list_of_corrections_is_newest_first_in_fixed_queries(client, editor, count, django_assert_num_queries):
    made = corrections_of(count, editor=editor)
    url = reverse("articles:correction_list")
    with django_assert_num_queries(CORRECTIONS_PAGE_QUERIES):
        page = client.get(url).content.decode()
    notes = [int(n) for n in re.findall(r"Correction number (\d+)\.", page)]
    assert notes == list(range(count - 1, -1, -1))[:CORRECTIONS_PER_PAGE]
    assert f'<a href="{made[-1].get_absolute_url()}">{made[-1].title}</a>' in page
    if count > CORRECTIONS_PER_PAGE:
        with django_assert_num_queries(CORRECTIONS_PAGE_QUERIES):
            last = client.get(url, {"page": 2}).content.decode()
        assert "Correction number 0." in last


@pytest.mark.parametrize("page", ["2", "0", "abc", "99999"])
def test_a_page_of_corrections_out_of_range_is_not_found(client, editor, page):
    corrections_of(1, editor=editor)
    assert client.get(reverse("articles:correction_list"), {"page": page}).status_code == 404


def test_the_list_links_each_correction_to_the_live_page_and_leaves_out_articles_taken_down(client, live, editor):
    correct(client, live, DOSE, editor=editor)
    other = live_article(title="Taken down later")
    correct(client, other, "A note about an article no longer on the site.", editor=editor)
    workflow.unpublish(other, by=editor, reason="Out of date.")
    client.logout()
    page = client.get(reverse("articles:correction_list")).content.decode()
    assert f'<a href="{live.get_absolute_url()}">{live.title}</a>' in page
    assert DOSE in page
    assert "no longer on the site" not in page


def test_the_list_is_linked_from_every_footer_and_in_the_sitemap(client, live):
    url = reverse("articles:correction_list")
    assert f'href="{url}"' in client.get(reverse("articles:home")).content.decode()
    assert url in client.get(reverse("articles:sitemap")).content.decode()


def test_the_leaflet_prints_the_corrections_as_the_page_does(client, live, editor, tmp_path):
    from tests.test_leaflet import leaflet_url, pdf_text, words

    if not (leaflets_available() and shutil.which("pdftotext")):
        missing("WeasyPrint (with Pango) and poppler-utils' pdftotext are needed to read a leaflet")
    snapshot = correct(client, live, DOSE, editor=editor)
    client.logout()
    text = words(pdf_text(client.get(leaflet_url(live)).content, tmp_path))
    assert words(f"Corrected on {corrected_on(snapshot)}: {DOSE}") in text


def leaflets_available() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True
