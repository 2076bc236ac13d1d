"""articles/site_icons.py and the head of every page: icons, the web app manifest and link-preview tags."""

import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from articles import site_icons
from articles.models import Page
from articles.views import HOME_DESCRIPTION
from tests.factories import TopicFactory, live_article

pytestmark = pytest.mark.django_db

ICONS = Path(__file__).resolve().parent.parent / "articles" / "static" / "articles" / "icons"


class Head(HTMLParser):
    """The <meta> and <link> tags of a page's head, by their name or property and by rel."""

    def __init__(self, page: str):
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: dict[str, list[dict]] = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            key = attrs.get("property") or attrs["name"]
            assert key not in self.meta, f"{key} is said twice"
            self.meta[key] = attrs.get("content", "")
        elif tag == "link":
            self.links.setdefault(attrs["rel"], []).append(attrs)


def head_of(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200
    return Head(response.content.decode())


def assert_link_preview(head: Head, *, title: str, description: str, url: str, kind: str, settings):
    card = settings.SITE_URL + "/static/articles/icons/card."
    assert head.meta["og:type"] == kind
    assert head.meta["og:site_name"] == settings.CLINIC["name"]
    assert head.meta["og:title"] == head.meta["twitter:title"] == title
    assert head.meta["og:description"] == head.meta["twitter:description"] == description
    assert head.meta["og:url"] == settings.SITE_URL + url
    assert head.meta["og:locale"] == "en_US"
    assert head.meta["og:image"] == head.meta["twitter:image"]
    assert head.meta["og:image"].startswith(card)  # absolute, and the hashed name the static storage serves
    assert (head.meta["og:image:width"], head.meta["og:image:height"]) == ("1200", "630")
    assert head.meta["og:image:type"] == "image/png"
    assert head.meta["og:image:alt"] == head.meta["twitter:image:alt"] == site_icons.CARD_ALT
    assert head.meta["twitter:card"] == "summary_large_image"


def test_article_home_topic_and_policy_pages_make_a_good_link_preview(client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example"]
    topic = TopicFactory(name="Wound care", description="How wounds heal & why some heal slowly.")
    article = live_article(title="Exosomes & wounds", summary="What studies in mice show.", topics=[topic])
    page = Page.objects.create(title="Privacy", slug="privacy", body="<p>We keep <b>little</b> &amp; delete it.</p>")
    pages = {
        article.get_absolute_url(): ("Exosomes & wounds", "What studies in mice show.", "article"),
        "/": (settings.CLINIC["name"], HOME_DESCRIPTION, "website"),
        page.get_absolute_url(): ("Privacy", "We keep little & delete it.", "website"),
    }
    for url, (title, description, kind) in pages.items():
        head = Head(client.get(url, HTTP_HOST="other.example").content.decode())  # addresses from SITE_URL
        assert_link_preview(head, title=title, description=description, url=url, kind=kind, settings=settings)


def test_every_page_links_the_icons_and_the_manifest_and_each_answers_with_its_type(client):
    head = head_of(client, "/")
    icons = {link.get("type", "ico"): link["href"] for link in head.links["icon"]}
    expected = {
        icons["ico"]: "image/x-icon",
        icons["image/svg+xml"]: "image/svg+xml",
        head.links["apple-touch-icon"][0]["href"]: "image/png",
        head.links["manifest"][0]["href"]: "application/manifest+json",
    }
    manifest = json.loads(client.get(head.links["manifest"][0]["href"]).content)
    assert manifest["name"] == manifest["name"].strip() != ""
    for icon in manifest["icons"]:
        expected[icon["src"]] = icon["type"]
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512", "any"}
    expected[head.meta["og:image"].removeprefix(site_icons.absolute(""))] = "image/png"
    for url, content_type in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].split(";")[0] in (content_type, "image/vnd.microsoft.icon"), url
    assert head.meta["theme-color"] == site_icons.THEME_COLOR
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 301
    assert favicon["Location"] == icons["ico"]


def test_the_content_security_policy_lets_the_browser_load_the_manifest_and_icons(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert "manifest-src" not in directives  # so default-src governs it
    assert directives["default-src"] == "'self'"
    assert "'self'" in directives["img-src"]


def test_link_previews_are_on_the_pages_people_share_and_not_on_search_results(client):
    article = live_article()
    assert "og:title" in client.get(article.get_absolute_url()).content.decode()
    assert "og:title" not in client.get("/search/?q=mice").content.decode()


def test_the_committed_icons_are_what_the_drawing_script_makes(tmp_path):
    call_command("draw_site_icons", out=tmp_path, stdout=io.StringIO())
    assert (tmp_path / "icon.svg").read_text() == (ICONS / "icon.svg").read_text()
    sizes = {"apple-touch-icon.png": (180, 180), "icon-192.png": (192, 192), "icon-512.png": (512, 512)}
    for name, size in {**sizes, "card.png": (1200, 630)}.items():
        with Image.open(ICONS / name) as committed, Image.open(tmp_path / name) as fresh:
            assert committed.size == fresh.size == size, name
    with Image.open(ICONS / "apple-touch-icon.png") as apple:
        assert apple.mode == "RGB"  # no transparency, which iOS would show as black
    with Image.open(ICONS / "favicon.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48)} <= set(ico.info["sizes"])


def test_a_folder_that_cannot_be_made_is_a_clear_message_and_nothing_is_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CommandError, match="Cannot write the icons into"):
        call_command("draw_site_icons", out=blocker / "icons", stdout=io.StringIO())
    assert blocker.read_text() == "not a folder"
