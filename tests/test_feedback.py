"""Patients' feedback (articles/feedback.py): the endpoint, its abuse checks, and editors closing reports."""

import html
import re
import threading
import uuid
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse

from articles import feedback, workflow
from articles.models import AuditEvent, Page, PageFeedback, ProblemReport
from tests.data.hostile_html import VECTORS
from tests.factories import ArticleFactory, live_article
from tests.test_corrections import correct
from tests.test_views import ARTICLE_PAGE_QUERIES
from tests.tools import REDIS_URL, missing, reachable

pytestmark = pytest.mark.django_db

REPORT = {"form": "report", "kind": "factual_error", "description": "The dose in paragraph 2 is wrong."}


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()  # each test starts with no posts counted
    yield
    cache.clear()


@pytest.fixture
def article(db):
    return live_article(title="Exosomes and hair loss")


def post(client, article, data: dict, **headers):
    return client.post(reverse("articles:feedback", args=[article.live_snapshot.slug]), data, **headers)


def report(article, **fields) -> ProblemReport:
    values = {"kind": REPORT["kind"], "description": REPORT["description"], "email": "pat@example.com", **fields}
    return ProblemReport.objects.create(article=article, **values)


# --- The endpoint ---------------------------------------------------------------------------------------------


def test_a_yes_is_saved_for_the_version_read_and_thanked(client, article):
    response = post(client, article, {"form": "helpful", "helpful": "yes"})
    assert response.status_code == 200
    assert "Thank you for your feedback" in response.content.decode()
    saved = PageFeedback.objects.get()
    assert (saved.article, saved.snapshot, saved.helpful, saved.comment) == (article, article.live_snapshot, True, "")


def test_a_no_is_saved_with_its_comment(client, article):
    post(client, article, {"form": "helpful", "helpful": "no", "comment": "  Nothing on side effects.  "})
    saved = PageFeedback.objects.get()
    assert (saved.helpful, saved.comment) == (False, "Nothing on side effects.")


def test_a_report_is_saved_open_with_its_email(client, article):
    response = post(client, article, {**REPORT, "email": "pat@example.com"})
    assert response.status_code == 200
    assert "We have your report" in response.content.decode()
    saved = ProblemReport.objects.get()
    assert (saved.article, saved.kind, saved.status, saved.email) == (
        article,
        "factual_error",
        "open",
        "pat@example.com",
    )


def test_the_answer_is_never_cached_nor_carries_a_cookie_or_token(client, article):
    response = post(client, article, {"form": "helpful", "helpful": "yes"})
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control
    assert not response.cookies
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_a_filled_honeypot_saves_nothing_and_is_thanked_the_same(client, article):
    honest = post(client, article, REPORT)
    ProblemReport.objects.all().delete()
    bot = post(client, article, {**REPORT, feedback.HONEYPOT_FIELD: "http://spam.example"})
    assert bot.status_code == honest.status_code == 200
    assert bot.content == honest.content
    assert not ProblemReport.objects.exists()


def test_a_bot_filling_the_honeypot_with_malformed_fields_is_thanked_too(client, article):
    honest = post(client, article, REPORT)
    ProblemReport.objects.all().delete()
    bot = post(client, article, {"form": "report", "kind": "nonsense", feedback.HONEYPOT_FIELD: "x"})
    assert bot.status_code == 200
    assert bot.content == honest.content  # no form errors telling it what a person must fill in
    assert not ProblemReport.objects.exists()


def test_over_the_rate_limit_a_clear_429_and_nothing_saved(client, article):
    for _ in range(feedback.RATE_LIMIT_POSTS):
        assert post(client, article, {"form": "helpful", "helpful": "yes"}).status_code == 200
    response = post(client, article, REPORT)
    assert response.status_code == 429
    assert feedback.TOO_MANY in response.content.decode()
    assert response["Retry-After"] == str(feedback.RATE_LIMIT_SECONDS)
    assert "no-store" in response["Cache-Control"]
    assert not ProblemReport.objects.exists()
    assert PageFeedback.objects.count() == feedback.RATE_LIMIT_POSTS
    # Another address is not held back by this one.
    assert post(client, article, REPORT, REMOTE_ADDR="192.0.2.9").status_code == 200


def test_the_rate_limit_keeps_no_address_only_its_keyed_hash(settings):
    key = feedback.rate_key("203.0.113.7")
    assert "203.0.113.7" not in key
    assert key == feedback.rate_key("203.0.113.7") != feedback.rate_key("203.0.113.8")
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
    assert feedback.rate_key("203.0.113.7") != key


def test_the_rate_limit_is_shared_through_redis(settings, article):
    address = urlparse(REDIS_URL)
    if not reachable(address.hostname, address.port or 6379):
        missing(f"Redis is not reachable at {REDIS_URL}; start redis-server or set TEST_REDIS_URL.")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    for _ in range(feedback.RATE_LIMIT_POSTS):
        feedback.over_rate_limit("198.51.100.1")
    assert feedback.over_rate_limit("198.51.100.1")
    client = cache._cache.get_client(write=False)
    stored = client.keys(f"{prefix}:*")
    assert len(stored) == 1
    assert b"198.51.100.1" not in stored[0]
    assert 0 < client.ttl(stored[0]) <= feedback.RATE_LIMIT_SECONDS
    cache.clear()


def test_the_report_page_shows_the_corrections_published_since_the_report_arrived(client, editor, writer):
    article = live_article(author=writer)
    correct(client, article, "An earlier correction, before the report.", editor=editor)
    article.refresh_from_db()
    open_report = report(article)
    other = live_article(title="Exosomes and hair loss, again", author=writer)
    correct(client, other, "A correction of another article.", editor=editor)
    url = reverse("articles:review_report", args=[open_report.pk])
    client.force_login(editor)
    assert "None yet." in client.get(url).content.decode()
    article.refresh_from_db()
    correct(client, article, "We corrected the dose <b>from</b> 4,000 to 400 units.", editor=editor)
    client.force_login(editor)
    body = client.get(url).content.decode()
    listed = re.findall(r'<ul class="report-corrections">(.*?)</ul>', body, re.S)[0]
    assert "We corrected the dose from 4,000 to 400 units." in listed  # the note is kept as plain text
    assert "<b>" not in listed
    assert "earlier correction" not in listed
    assert "another article" not in listed


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**REPORT, "description": "x" * 2001}, "at most 2000 fit"),
        ({**REPORT, "email": "a" * 250 + "@example.com"}, "at most 254 fit"),
        ({**REPORT, "email": "not an address"}, feedback.BAD_EMAIL),
        ({**REPORT, "kind": "rant"}, feedback.CHOOSE_KIND),
        ({**REPORT, "description": ""}, feedback.DESCRIBE_PROBLEM),
        ({"form": "helpful", "helpful": "no", "comment": "y" * 2001}, "at most 2000 fit"),
        ({"form": "helpful", "helpful": "maybe"}, feedback.CHOOSE_HELPFUL),
    ],
)
def test_bad_input_gets_the_form_again_with_the_message_and_nothing_saved(client, article, data, message):
    response = post(client, article, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "Check your feedback" in body
    assert 'name="form"' in body
    assert not ProblemReport.objects.exists()
    assert not PageFeedback.objects.exists()


def test_an_unknown_form_is_refused_clearly(client, article):
    response = post(client, article, {"form": "survey", "helpful": "yes"})
    assert response.status_code == 400
    assert feedback.UNKNOWN_FORM in response.content.decode()


@pytest.mark.parametrize("slug", ["no-such-article", "x" * 300])
def test_feedback_on_an_unknown_article_is_404(client, slug):
    response = client.post(f"/articles/{slug}/feedback/", {"form": "helpful", "helpful": "yes"})
    assert response.status_code == 404
    assert not PageFeedback.objects.exists()


def test_feedback_on_a_draft_is_404(client):
    draft = ArticleFactory(slug="a-draft")
    response = client.post(f"/articles/{draft.slug}/feedback/", REPORT)
    assert response.status_code == 404
    assert not ProblemReport.objects.exists()


def test_a_get_is_not_allowed(client, article):
    assert client.get(reverse("articles:feedback", args=[article.live_snapshot.slug])).status_code == 405


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_REFERER": "https://evil.example/articles/"},
        {"HTTP_ORIGIN": "http://testserver.evil.example"},
    ],
)
def test_a_post_from_another_site_is_403(client, article, headers):
    response = post(client, article, REPORT, **headers)
    assert response.status_code == 403
    assert feedback.FOREIGN_ORIGIN in response.content.decode()
    assert not ProblemReport.objects.exists()


def test_a_post_from_this_site_is_taken(client, article, settings):
    assert post(client, article, REPORT, HTTP_ORIGIN="http://testserver").status_code == 200
    referer = f"{settings.SITE_URL}{article.live_snapshot.get_absolute_url()}"
    assert post(client, article, REPORT, HTTP_REFERER=referer).status_code == 200
    assert ProblemReport.objects.count() == 2


def test_the_article_page_keeps_its_queries_and_carries_no_token(client, article, django_assert_num_queries):
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        response = client.get(article.get_absolute_url())
    body = response.content.decode()
    assert "csrfmiddlewaretoken" not in body
    assert not response.cookies
    assert "Was this page helpful?" in body
    assert "Report a problem with this page" in body
    assert f'action="{reverse("articles:feedback", args=[article.live_snapshot.slug])}"' in body
    # The forms come after the site-wide disclaimers and before the article's history.
    assert body.index("Not medical advice") < body.index('id="feedback"')


def test_fifty_concurrent_posters_are_all_saved(article, transactional_db):
    errors, statuses = [], []

    def poster(number: int) -> None:
        try:
            client = Client(REMOTE_ADDR=f"10.1.0.{number}")
            data = REPORT if number % 2 else {"form": "helpful", "helpful": "no", "comment": f"comment {number}"}
            statuses.append(post(client, article, data).status_code)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=poster, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert statuses == [200] * 50
    assert ProblemReport.objects.count() == 25
    assert PageFeedback.objects.count() == 25


def test_the_privacy_policy_says_what_feedback_keeps(client):
    body = client.get(Page.objects.get(slug="privacy-policy").get_absolute_url()).content.decode()
    assert "IP address" in body
    assert "delete it when we close the report" in body


# --- Closing reports ------------------------------------------------------------------------------------------


def test_an_editor_closes_a_report_the_email_goes_and_the_step_is_audited(editor, article):
    closed = feedback.close_report(report(article), by=editor, outcome="corrected", note="Fixed the dose.")
    closed.refresh_from_db()
    assert (closed.status, closed.outcome, closed.closing_note, closed.email) == (
        "closed",
        "corrected",
        "Fixed the dose.",
        "",
    )
    assert closed.closed_by == editor
    assert closed.closed_at
    event = AuditEvent.objects.get(action=feedback.CLOSE_ACTION)
    assert event.article == article
    assert event.actor == editor
    assert "Fixed the dose." in event.message
    assert "pat@example.com" not in event.message


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_may_not_close_a_report(request, article, role):
    open_report = report(article)
    with pytest.raises(PermissionDenied):
        feedback.close_report(open_report, by=request.getfixturevalue(role), outcome="duplicate", note="Seen.")
    open_report.refresh_from_db()
    assert open_report.status == "open"
    assert open_report.email == "pat@example.com"
    assert not AuditEvent.objects.filter(action=feedback.CLOSE_ACTION).exists()


def test_a_closed_report_is_not_closed_again(editor, article):
    closed = feedback.close_report(report(article), by=editor, outcome="duplicate", note="Same as 1.")
    with pytest.raises(workflow.WorkflowError, match="closed already"):
        feedback.close_report(closed, by=editor, outcome="corrected", note="Again.")
    assert AuditEvent.objects.filter(action=feedback.CLOSE_ACTION).count() == 1


# --- The review desk ------------------------------------------------------------------------------------------


def test_the_queue_lists_open_reports_newest_first_with_their_article(client, editor, article):
    older = report(article, kind="broken_link")
    newer = report(article, kind="out_of_date")
    done = feedback.close_report(report(article, kind="other"), by=editor, outcome="duplicate", note="Dup.")
    client.force_login(editor)
    body = client.get(reverse("articles:review_queue")).content.decode()
    listed = body[body.index('id="problem-reports"') :]
    assert listed.index(reverse("articles:review_report", args=[newer.pk])) < listed.index(
        reverse("articles:review_report", args=[older.pk])
    )
    assert reverse("articles:review_report", args=[done.pk]) not in body
    assert "Exosomes and hair loss" in listed


@pytest.mark.parametrize("role", ["writer", "reviewer", "editor"])
def test_staff_read_a_report_which_links_to_the_articles_desk_page(client, request, article, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("articles:review_report", args=[report(article).pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("articles:review_article", args=[article.pk]) in body
    assert "The dose in paragraph 2 is wrong." in body
    assert ("Close report" in body) is (role == "editor")
    assert "no-store" in response["Cache-Control"]


def test_a_patient_account_may_not_read_reports(client, patient, article):
    client.force_login(patient)
    assert client.get(reverse("articles:review_report", args=[report(article).pk])).status_code == 403


def test_an_editor_closes_a_report_on_the_desk(client, editor, article):
    open_report = report(article)
    client.force_login(editor)
    url = reverse("articles:review_report", args=[open_report.pk])
    response = client.post(url, {"outcome": "corrected", "note": "Fixed the dose."}, follow=True)
    assert "Report closed as “Corrected”" in response.content.decode()
    open_report.refresh_from_db()
    assert (open_report.status, open_report.email) == ("closed", "")
    timeline = client.get(reverse("articles:review_article", args=[article.pk])).content.decode()
    assert "closed a patient&#x27;s problem report" in timeline


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"note": "Fixed."}, feedback.CHOOSE_OUTCOME),
        ({"outcome": "ignored", "note": "Fixed."}, feedback.CHOOSE_OUTCOME),
        ({"outcome": "corrected", "note": "   "}, feedback.WRITE_NOTE),
        ({"outcome": "corrected", "note": "n" * 2001}, "at most 2000 fit"),
    ],
)
def test_closing_without_an_outcome_or_note_shows_the_form_again(client, editor, article, data, message):
    open_report = report(article)
    client.force_login(editor)
    response = client.post(reverse("articles:review_report", args=[open_report.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    open_report.refresh_from_db()
    assert open_report.status == "open"
    assert open_report.email == "pat@example.com"


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_are_refused_closing_on_the_desk(client, request, article, role):
    open_report = report(article)
    client.force_login(request.getfixturevalue(role))
    url = reverse("articles:review_report", args=[open_report.pk])
    assert client.post(url, {"outcome": "corrected", "note": "Fixed."}).status_code == 403
    open_report.refresh_from_db()
    assert open_report.status == "open"


def test_an_unknown_report_is_404(client, editor):
    client.force_login(editor)
    assert client.get("/review/reports/999999/").status_code == 404
    assert client.post("/review/reports/999999/", {"outcome": "corrected", "note": "x"}).status_code == 404


def test_hostile_html_in_a_report_is_shown_escaped_on_the_desk(client, editor, article):
    vectors = [vector[:2000] for vector in VECTORS if "<" in vector][:200]
    hostile = [report(article, description=vector, email="") for vector in vectors]
    client.force_login(editor)
    queue = client.get(reverse("articles:review_queue")).content.decode()
    assert "<script>alert(1)</script>" not in queue
    for open_report, vector in zip(hostile, vectors, strict=True):
        body = client.get(reverse("articles:review_report", args=[open_report.pk])).content.decode()
        shown = re.search(r'<p class="report-description pre-wrap">(.*?)</p>', body, re.DOTALL).group(1)
        assert "<" not in shown, vector
        assert html.unescape(shown) == vector


@pytest.mark.parametrize("pk", ["0", "99999999999999999999999"])
def test_a_report_address_out_of_range_is_404(client, editor, pk):
    client.force_login(editor)
    assert client.get(f"/review/reports/{pk}/").status_code == 404
