"""articles/leaflets.py and its view: the A4 leaflet of a live article, its text, pages, cache and refusals."""

import http.server
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image

from articles import citations, leaflets, workflow
from articles.models import Disclaimer, PublishedSnapshot, UrgentHelp
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    UrgentHelpFactory,
    publish_reviewed,
    review,
)
from tests.test_views import ARTICLE_PAGE_QUERIES
from tests.tools import missing

pytestmark = pytest.mark.django_db

A4_MM = (210, 297)
DPI = 50
BLOCKS = {"h2", "h3", "h4", "p", "li", "th", "td", "blockquote"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def weasyprint():
    try:
        return leaflets._weasyprint()
    except leaflets.LeafletUnavailable as error:
        missing(str(error))


@pytest.fixture
def poppler():
    for tool in ("pdftotext", "pdftoppm"):
        if not shutil.which(tool):
            missing(f"{tool} is not installed (Debian package poppler-utils; see .ci/system-packages)")


@pytest.fixture
def renders(monkeypatch):
    """Count the PDFs WeasyPrint makes."""
    made = []
    render_pdf = leaflets.render_pdf

    def counted(html, **kwargs):
        made.append(html)
        return render_pdf(html, **kwargs)

    monkeypatch.setattr(leaflets, "render_pdf", counted)
    return made


def leaflet_url(article) -> str:
    return reverse("articles:article_leaflet", args=[article.live_snapshot.slug])


def full_article(editor):
    """Publish an article with a topic disclaimer, a cited key point, two cited statements in the body and three
    references."""
    topic = TopicFactory(name="Exosome therapy", offered_by_clinic=True)
    DisclaimerFactory(title="Not medical advice")
    warning = DisclaimerFactory(
        title="Experimental, not FDA-approved",
        text="<p>No exosome product is approved for treating skin in the United States.</p>",
        scope=Disclaimer.Scope.TOPICS,
    )
    warning.topics.set([topic])
    UrgentHelpFactory(topic=topic, heading="Signs of a wound infection")
    first, second, third = ReferenceFactory.create_batch(3)
    body = (
        "<h2>What the studies show</h2>"
        f"<p>In mice, wounds treated with exosomes closed faster than untreated wounds [@{first.citation_key}].</p>"
        f"<p>A small trial in 20 people found no serious side effects [@{second.citation_key}; "
        f"@{third.citation_key}].</p>"
        "<ul><li>Ask what the product is made from.</li><li>Ask how it was tested.</li></ul>"
    )
    key_points = f"<ul><li>In mice, exosomes helped wounds close faster [@{first.citation_key}].</li></ul>"
    article = ArticleFactory(
        title="Exosomes for wound healing", key_points=key_points, body=body, topics=[topic], drafted_with_ai=True
    )
    publish_reviewed(article, editor=editor, level="E")
    article.refresh_from_db()
    return article


class _Texts(HTMLParser):
    """Collect the text patients see of the elements `wanted` picks, skipping what only screen readers hear.

    `wanted(tag, classes, inside)`: `inside` holds the classes of the element's ancestors.
    """

    VOID = {"br", "img", "meta", "link", "input", "hr", "source", "wbr"}

    def __init__(self, wanted):
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.open: list[tuple[bool, list[str] | None, list[str]]] = []  # hidden, text if wanted, classes
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        inside = {name for entry in self.open for name in entry[2]}
        hidden = "visually-hidden" in classes or "backlink" in classes or (self.open and self.open[-1][0])
        self.open.append((bool(hidden), [] if self.wanted(tag, classes, inside) else None, classes))

    def handle_endtag(self, tag):
        if tag in self.VOID or not self.open:
            return
        _, text, _ = self.open.pop()
        if text is not None:
            self.found.append(" ".join("".join(text).split()))

    def handle_data(self, data):
        if self.open and self.open[-1][0]:
            return
        for _, text, _ in self.open:
            if text is not None:
                text.append(data)


def words(text: str) -> str:
    """Return `text` on one line, without the space pdftotext reads into the gap after a boxed label."""
    return re.sub(r"\s+([.,;:])", r"\1", " ".join(text.split()))


def texts(page: str, wanted) -> list[str]:
    parser = _Texts(wanted)
    parser.feed(page)
    return [words(text) for text in parser.found if text]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """Return the PDF's text as one line, without the page footers (they fall inside text that runs over)."""
    path = tmp_path / "leaflet.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, text=True)
    footer = re.compile(rf"^\s*({re.escape(settings.CLINIC['name'])} · .*|Page \d+ of \d+)\s*$")
    lines = [line for line in text.stdout.replace("\f", "\n").splitlines() if not footer.match(line)]
    return words(" ".join(lines))


def page_images(pdf: bytes, tmp_path: Path, *, dpi: int = DPI) -> list[Path]:
    path = tmp_path / "leaflet.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(tmp_path / "page")], check=True)
    return sorted(tmp_path.glob("page-*.png"))


def test_the_leaflet_prints_what_the_article_page_shows(client, editor, weasyprint, poppler, tmp_path):
    article = full_article(editor)
    snapshot = article.live_snapshot
    page = client.get(article.get_absolute_url()).content.decode()

    response = client.get(leaflet_url(article))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    printed = pdf_text(response.content, tmp_path)
    parts = {
        "title": texts(page, lambda tag, classes, inside: tag == "h1"),
        "summary": texts(page, lambda tag, classes, inside: "lead" in classes),
        "bylines": texts(page, lambda tag, classes, inside: "byline" in classes),
        "dates": texts(page, lambda tag, classes, inside: tag in ("dt", "dd")),
        "body": texts(page, lambda tag, classes, inside: tag in BLOCKS and "prose" in inside),
        "key points": texts(page, lambda tag, classes, inside: tag in BLOCKS and "key-points" in inside),
        "labels": texts(page, lambda tag, classes, inside: "evidence-label" in classes),
        "references": texts(page, lambda tag, classes, inside: tag == "li" and "references" in inside),
        "disclaimers": texts(page, lambda tag, classes, inside: "disclaimer" in classes),
        "ai note": texts(page, lambda tag, classes, inside: "ai-note" in classes),
        "urgent help": texts(page, lambda tag, classes, inside: tag in ("h2", "p", "li") and "urgent-help" in inside),
    }
    assert parts["labels"] == ["Animal study", "Animal study", "Animal study"]
    assert len(snapshot.statements) == 3
    assert len(parts["references"]) == 3
    assert len(parts["disclaimers"]) == 2
    assert parts["urgent help"][0] == "Signs of a wound infection"
    assert any(text.startswith("Medically reviewed by") for text in parts["bylines"])
    for statement in snapshot.statements:  # up to its citation, where the page puts the number and label
        assert citations.MARKER_RE.split(statement["text"])[0].strip() in printed
    for name, shown in parts.items():
        assert shown, name
        for text in shown:
            if name == "references":  # a line may break inside a DOI or an address, where the text has no space
                assert text.replace(" ", "") in printed.replace(" ", ""), f"{name}: {text!r} is not in the leaflet"
            else:
                assert text in printed, f"{name}: {text!r} is on the page but not in the leaflet"
    assert snapshot.get_absolute_url() in printed
    assert "check the web page for the latest version" in printed


def test_the_leaflet_has_a4_pages_that_are_not_blank(client, editor, weasyprint, poppler, tmp_path):
    article = full_article(editor)

    pdf = client.get(leaflet_url(article)).content

    images = page_images(pdf, tmp_path)
    assert images
    for image_path in images:
        with Image.open(image_path) as image:
            width, height = image.size
            assert (round(width * 25.4 / DPI), round(height * 25.4 / DPI)) == A4_MM
            dark = sum(1 for value in image.convert("L").get_flattened_data() if value < 128)
            assert dark > width * height * 0.005, f"{image_path.name} is blank"


def test_a_second_download_comes_from_the_cache(client, editor, weasyprint, renders):
    article = full_article(editor)

    first = client.get(leaflet_url(article))
    second = client.get(leaflet_url(article))

    assert len(renders) == 1
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Last-Modified"] == first["Last-Modified"]
    assert second["Content-Disposition"] == f'attachment; filename="{article.slug}-leaflet.pdf"'
    assert "public" in second["Cache-Control"]
    assert client.get(leaflet_url(article), headers={"if-none-match": first["ETag"]}).status_code == 304
    assert len(renders) == 1


def test_a_changed_disclaimer_prints_a_new_leaflet(client, editor, weasyprint, renders):
    article = full_article(editor)
    first = client.get(leaflet_url(article))
    disclaimer = Disclaimer.objects.get(title="Not medical advice")
    disclaimer.text = "<p>Talk to your own doctor before any treatment.</p>"
    disclaimer.save()

    second = client.get(leaflet_url(article))

    assert len(renders) == 2
    assert second["ETag"] != first["ETag"]


def test_a_changed_urgent_help_box_prints_a_new_leaflet(client, editor, weasyprint, renders):
    article = full_article(editor)
    first = client.get(leaflet_url(article))
    box = UrgentHelp.objects.get()
    box.same_day_phone = "(555) 010-9999"
    box.save()

    second = client.get(leaflet_url(article))

    assert len(renders) == 2
    assert second["ETag"] != first["ETag"]
    assert "(555) 010-9999" in renders[1]


def test_a_draft_has_no_leaflet_and_an_archived_article_answers_410(client, editor, renders):
    draft = ArticleFactory()
    assert client.get(reverse("articles:article_leaflet", args=[draft.slug])).status_code == 404
    assert client.get("/articles/no-such-article/leaflet.pdf").status_code == 404
    assert client.get("/articles/%3Cscript%3E/leaflet.pdf").status_code == 404
    article = full_article(editor)
    slug = article.live_snapshot.slug
    workflow.archive(article, by=editor, reason="Replaced")

    assert client.get(reverse("articles:article_leaflet", args=[slug])).status_code == 410
    assert renders == []


def test_the_leaflet_reads_what_the_article_page_reads(client, editor, weasyprint, django_assert_num_queries):
    article = full_article(editor)
    client.get(leaflet_url(article))
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        assert client.get(leaflet_url(article)).status_code == 200


def test_the_old_address_of_a_renamed_article_redirects_to_its_new_leaflet(client, editor):
    article = full_article(editor)
    old = leaflet_url(article)
    article.slug = "exosomes-and-wound-healing"
    article.save()
    review(article)
    workflow.publish(article, by=editor)

    response = client.get(old)

    assert response.status_code == 301
    assert response["Location"] == "/articles/exosomes-and-wound-healing/leaflet.pdf"


def test_the_article_page_links_its_leaflet_but_a_preview_does_not(client, editor):
    article = full_article(editor)

    page = client.get(article.get_absolute_url()).content.decode()

    assert f'href="{leaflet_url(article)}"' in page
    assert "Download as a leaflet (PDF, A4)" in page
    assert page.index("AI tools helped draft") < page.index("Download as a leaflet") < page.index("talk-heading")
    preview = render_to_string("articles/_leaflet_link.html", {"snapshot": article.live_snapshot, "preview": True})
    assert preview.strip() == ""


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def watched_server():
    """A local HTTP server that records every request it gets."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()
    server.server_close()


def test_a_snapshot_naming_other_addresses_makes_the_server_fetch_nothing(weasyprint, watched_server, editor):
    address, requests = watched_server
    article = full_article(editor)
    snapshot = PublishedSnapshot.objects.get(pk=article.live_snapshot_id)
    # Written straight into an unsaved copy: the sanitizer would have removed all but the link.
    snapshot.body_html = (
        f'<p><img src="{address}/image.png" alt="">A link <a href="{address}/link">here</a>.</p>'
        f'<link rel="stylesheet" href="{address}/style.css">'
        f"<style>@import url({address}/import.css); p {{ background: url({address}/background.png) }}</style>"
        f'<p style="background-image: url({address}/inline.png)">Styled</p>'
        f'<object data="{address}/object"></object><iframe src="{address}/frame"></iframe>'
        f'<img src="file:///etc/passwd"><img src="{settings.SITE_URL}/admin/">'
    )
    context = {"snapshot": snapshot, "canonical_url": settings.SITE_URL + snapshot.get_absolute_url()}

    leaflet = leaflets.leaflet_for(snapshot, context=context)

    assert leaflet.pdf.startswith(b"%PDF")
    assert requests == []


def test_a_published_link_is_not_fetched_when_printing(client, editor, weasyprint, watched_server):
    address, requests = watched_server
    article = ArticleFactory(body=f'<p>See <a href="{address}/page">this page</a>.</p>', topics=[TopicFactory()])
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()

    assert client.get(leaflet_url(article)).status_code == 200
    assert requests == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (f"{settings.SITE_URL}/static/articles/site.css", True),
        (f"{settings.SITE_URL}/static/articles/../../settings.py", False),
        (f"{settings.SITE_URL}/static/", False),
        (f"{settings.SITE_URL}/static/articles/no-such-file.css", False),
        (f"{settings.SITE_URL}/admin/", False),
        ("http://127.0.0.1:1/static/articles/site.css", False),
        ("file:///etc/passwd", False),
        ("data:text/css,p{}", False),
    ],
)
def test_the_fetcher_reads_only_our_static_files(url, allowed, weasyprint):
    fetcher = leaflets._fetcher(weasyprint)
    if allowed:
        assert fetcher(url).read()
    else:
        with pytest.raises(ValueError, match="fetches nothing but the site's own static files"):
            fetcher(url)


def test_without_pango_the_leaflet_answers_503_with_a_clear_page(client, editor, monkeypatch):
    article = full_article(editor)
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # `import weasyprint` now fails, as without Pango

    response = client.get(leaflet_url(article))

    assert response.status_code == 503
    page = response.content.decode()
    assert leaflets.NOT_AVAILABLE in page
    assert f'href="{article.get_absolute_url()}"' in page
    assert "public" not in response.get("Cache-Control", "")
