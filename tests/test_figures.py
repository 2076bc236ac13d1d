"""Figures in article bodies (`articles/figures.py`): markers, rendering, publishing blocks, snapshots and hashes."""

import json
import re
from pathlib import Path

import pytest
import weasyprint
from django.conf import settings
from django.core.files.storage import default_storage

from articles import figures, images, leaflets, patient_visible, renditions, workflow
from articles.admin.images import PICKER_NO_MATCH, PICKER_PROMPT
from articles.models import PatientConsent
from articles.rendering import render_article
from articles.sanitize import clean_html
from tests.data.hostile_images import picture
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, library_image, publish_reviewed
from tests.test_views import ARTICLE_PAGE_QUERIES

pytestmark = pytest.mark.django_db
FILESYSTEM = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": FILESYSTEM}
    return tmp_path


def body_with(*ids, cited="") -> str:
    key = cited or ReferenceFactory().citation_key
    return f"<p>In mice, wounds closed faster [@{key}].</p>" + "".join(f"<p>[[figure:{i}]]</p>" for i in ids)


def replace_file(image, content: bytes, name: str = "new-layers.png") -> None:
    """Replace the image's picture as the admin does (ImageAdmin.save_model)."""
    image.original_name = name
    renditions.save_upload(image, images.clean_image(content, name), save=image.save)


# --- markers ---------------------------------------------------------------------------------------------


def test_markers_alone_in_their_paragraph_are_figures_and_others_are_reported_once():
    html = "<p>[[figure:3]]</p><p> [[ figure : 12 ]] </p><p>[[figure:3]]</p><p>See [[figure:4]] here.</p>"
    html += "<p>[[figure:abc]]</p><p>[[figure:5]</p>"
    assert figures.figure_ids(html) == [3, 12]
    assert figures.malformed_markers(html) == ["[[figure:4]]", "[[figure:abc]]", "[[figure:5]"]
    assert figures.figure_ids("") == []
    assert figures.malformed_markers(None) == []


def test_staff_typed_images_figures_and_pictures_are_stripped_by_the_bleach_policy():
    typed = (
        '<figure><picture><source srcset="https://evil.example/x.webp"><img src="https://evil.example/x.png" '
        'onerror="alert(1)" alt="x"></picture><figcaption>Caption</figcaption></figure><p>[[figure:7]]</p>'
    )
    cleaned = clean_html(typed)
    assert not re.search(r"<\s*(img|figure|picture|source|figcaption)\b", cleaned)
    assert "evil.example" not in cleaned
    assert "onerror" not in cleaned
    assert "<p>[[figure:7]]</p>" in cleaned  # the marker is text: only the app turns it into a figure


# --- rendering -------------------------------------------------------------------------------------------


def test_a_figure_renders_webp_and_the_original_format_at_each_width_sized_with_its_caption_and_credit():
    image = library_image(caption="The epidermis lies over the dermis.", credit="Clinic's own drawing")
    second = library_image(picture("JPEG", size=(500, 400)), "second.jpg", alt_text="A healed scar, close up")
    article = ArticleFactory(body=body_with(image.pk, second.pk))
    rendered = render_article(article)
    assert rendered.figure_problems == []
    first, other = re.findall(r"<figure.*?</figure>", rendered.body_html)
    webp = [r for r in image.current_renditions() if r.format == "WEBP"]
    png = [r for r in image.current_renditions() if r.format == "PNG"]
    srcset = ", ".join(f"{default_storage.url(r.file)} {r.width}w" for r in webp)
    assert f'<source type="image/webp" srcset="{srcset}"' in first
    widest = max(png, key=lambda r: r.width)
    assert f'<img src="{default_storage.url(widest.file)}"' in first
    assert 'width="700" height="350" alt="The skin&#x27;s three layers, labelled" loading="eager"' in first
    assert "<figcaption>The epidermis lies over the dermis. · Clinic&#x27;s own drawing</figcaption>" in first
    assert 'width="500" height="400"' in other
    assert 'loading="lazy"' in other
    assert "<figcaption>" not in other
    assert [f["image"] for f in rendered.figures] == [image.pk, second.pk]
    assert "[[figure" not in rendered.body_html


def test_a_decorative_picture_has_empty_alt_text():
    image = library_image(alt_text="", decorative=True)
    html = render_article(ArticleFactory(body=body_with(image.pk))).body_html
    assert 'alt="" loading="eager"' in html


def test_caption_and_credit_are_plain_text_for_patients():
    image = library_image(caption="<b>Bold</b> <script>alert(1)</script>layers", credit="<i>Dr</i> Who")
    image.refresh_from_db()
    assert (image.caption, image.credit) == ("Bold layers", "Dr Who")


# --- what blocks publishing -----------------------------------------------------------------------------


def test_an_unknown_image_blocks_submitting_with_a_clear_message(editor):
    article = ArticleFactory(body=body_with(987654), topics=[TopicFactory()])
    expected = figures.UNKNOWN_FIGURE.format(title=article.title, id=987654)
    assert render_article(article).figure_problems == [expected]
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit_for_review(article, by=editor)
    assert expected in str(refused.value)


@pytest.mark.parametrize("withdrawn", [False, True])
def test_a_patient_photograph_without_consent_blocks_publishing(editor, withdrawn):
    image = library_image(shows_patient=True, alt_text="A healing wound on a forearm")
    if withdrawn:
        PatientConsent.objects.create(
            image=image, consented_by="The patient", consented_on="2026-01-02", use="Website",
            form_reference="F-1", withdrawn_on="2026-02-02",
        )  # fmt: skip
    article = ArticleFactory(body=body_with(image.pk), topics=[TopicFactory()])
    reason = image.usable_problem()
    assert reason == (images_consent_withdrawn() if withdrawn else images_consent_needed())
    problems = render_article(article).figure_problems
    assert problems == [figures.FIGURE_NOT_USABLE.format(title=article.title, id=image.pk, image=image.title,
                                                         reason=reason)]  # fmt: skip
    with pytest.raises(workflow.WorkflowError):
        workflow.submit_for_review(article, by=editor)
    assert "<figure" not in render_article(article).body_html


def images_consent_needed():
    from articles.models.images import CONSENT_NEEDED

    return CONSENT_NEEDED


def images_consent_withdrawn():
    from articles.models.images import CONSENT_WITHDRAWN

    return CONSENT_WITHDRAWN


def test_a_malformed_marker_blocks_submitting(editor):
    article = ArticleFactory(body=body_with() + "<p>See [[figure:1]] below.</p>", topics=[TopicFactory()])
    with pytest.raises(workflow.WorkflowError) as refused:
        workflow.submit_for_review(article, by=editor)
    assert "figure markers that cannot be read ([[figure:1]])" in str(refused.value)


def test_consent_recorded_lets_the_photograph_be_published(editor):
    image = library_image(shows_patient=True, alt_text="A healing wound on a forearm")
    PatientConsent.objects.create(
        image=image, consented_by="The patient", consented_on="2026-01-02", use="Website", form_reference="F-1"
    )
    article = ArticleFactory(body=body_with(image.pk), topics=[TopicFactory()])
    snapshot = publish_reviewed(article, editor=editor)
    assert "<figure" in snapshot.body_html


# --- snapshot and hash ----------------------------------------------------------------------------------


def test_the_snapshot_freezes_the_figures_and_replacing_the_image_never_changes_the_published_page(client, editor):
    image = library_image(caption="Layers", credit="Clinic")
    article = ArticleFactory(body=body_with(image.pk), topics=[TopicFactory()])
    snapshot = publish_reviewed(article, editor=editor)
    frozen = snapshot.figures
    assert [f["image"] for f in frozen] == [image.pk]
    assert {"alt", "caption", "credit", "decorative", "renditions", "source_hash"} <= frozen[0].keys()
    assert {(r["format"], r["width"], r["height"]) for r in frozen[0]["renditions"]} == {
        (f, w, w // 2) for f in ("PNG", "WEBP") for w in (320, 640, 700)
    }
    page_before = client.get(article.get_absolute_url()).content.decode()
    old_files = [r["file"] for r in frozen[0]["renditions"]]

    article.refresh_from_db()
    hash_before = article.content_hash()
    replace_file(image, picture("PNG", size=(900, 300)))
    image.alt_text, image.caption = "The skin's layers, redrawn", "Redrawn"
    image.save()

    assert article.content_hash() != hash_before  # the sign-off no longer covers what patients would see
    snapshot.refresh_from_db()
    assert snapshot.figures == frozen
    page_after = client.get(article.get_absolute_url()).content.decode()
    assert re.findall(r"<figure.*?</figure>", page_after) == re.findall(r"<figure.*?</figure>", page_before)
    assert all(default_storage.exists(name) for name in old_files)  # the published page's files are still there
    assert "Redrawn" in render_article(article).body_html  # the next publication shows the new picture


@pytest.mark.parametrize(
    "change",
    [
        lambda image: replace_file(image, picture("PNG", size=(640, 480))),
        lambda image: setattr(image, "alt_text", "The skin's three layers, with hair follicles"),
        lambda image: setattr(image, "caption", "A new caption"),
        lambda image: setattr(image, "credit", "Another artist"),
        lambda image: (setattr(image, "decorative", True), setattr(image, "alt_text", "")),
    ],
    ids=["file", "alt text", "caption", "credit", "decorative"],
)
def test_the_content_hash_changes_with_the_figures_image_file_alt_text_caption_or_credit(change):
    image = library_image()
    article = ArticleFactory(body=body_with(image.pk))
    before = article.content_hash()
    change(image)
    image.save()
    assert article.content_hash() != before


def test_a_body_without_figures_keeps_its_hash_and_a_library_change_elsewhere_changes_nothing():
    article = ArticleFactory(body=body_with())
    before = article.content_hash()
    library_image()
    assert article.content_hash() == before
    assert "figures" not in patient_visible.hashed(article, cited=[])


# --- the patient page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 5])
def test_article_page_query_count_does_not_grow_with_figures(client, editor, count, django_assert_num_queries):
    ids = [library_image(picture("PNG", size=(400 + n, 200)), f"p{n}.png").pk for n in range(count)]
    article = ArticleFactory(body=body_with(*ids), topics=[TopicFactory()])
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    with django_assert_num_queries(ARTICLE_PAGE_QUERIES):
        page = client.get(article.get_absolute_url()).content.decode()
    assert page.count("<figure") == count
    assert page.count('loading="eager"') == min(count, 1)
    assert page.count('loading="lazy"') == max(count - 1, 0)


def test_the_first_described_figure_is_the_pages_open_graph_image_and_in_its_json_ld(client, editor, settings):
    decorative = library_image(alt_text="", decorative=True)
    image = library_image(picture("JPEG", size=(1000, 500)), "layers.jpg", caption="The layers")
    article = ArticleFactory(body=body_with(decorative.pk, image.pk), topics=[TopicFactory()])
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    page = client.get(article.get_absolute_url()).content.decode()
    widest = image.current_renditions().filter(format="JPEG").order_by("-width").first()
    address = settings.SITE_URL + default_storage.url(widest.file)
    assert f'<meta property="og:image" content="{address}">' in page
    assert '<meta property="og:image:type" content="image/jpeg">' in page
    assert f'<meta property="og:image:width" content="{widest.width}">' in page
    assert '<meta property="og:image:alt" content="The skin&#x27;s three layers, labelled">' in page
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL).group(1))
    assert data["image"] == {
        "@type": "ImageObject", "contentUrl": address, "width": widest.width, "height": widest.height,
        "description": "The skin's three layers, labelled", "caption": "The layers",
    }  # fmt: skip


def test_a_page_without_figures_keeps_the_site_card_and_no_json_ld_image(client, editor):
    article = ArticleFactory(body=body_with(), topics=[TopicFactory()])
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "icons/card" in re.search(r'<meta property="og:image" content="([^"]*)"', page).group(1)
    assert '"image"' not in re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL).group(1)


def test_renditions_are_served_where_django_serves_media_and_never_the_originals(client, settings):
    image = library_image()
    rendition = image.current_renditions().first()
    settings.SERVE_MEDIA = False
    assert client.get(default_storage.url(rendition.file)).status_code == 404
    settings.SERVE_MEDIA = True
    response = client.get(default_storage.url(rendition.file))
    assert response.status_code == 200
    assert client.get(default_storage.url(image.file.name)).status_code == 404
    assert client.get(default_storage.url("images/renditions/../originals/x.png")).status_code == 404


# --- the figure picker's search ---------------------------------------------------------------------------


def test_the_picker_finds_usable_pictures_by_alt_text_caption_or_title_for_those_who_may_see_the_library(client):
    from django.urls import reverse

    from tests.factories import UserFactory, member_of

    shown = library_image(caption="Where a wound heals")
    library_image(title="Scar photograph", alt_text="A scar on a forearm, layers visible", shows_patient=True)
    url = reverse("admin:articles_image_search")
    client.force_login(member_of("Writers"))
    for query in ("skin three", "WOUND heals", "layers of"):
        answer = client.get(url, {"q": query}).json()
        assert [r["marker"] for r in answer["results"]] == [f"[[figure:{shown.pk}]]"], query
    assert client.get(url, {"q": "nothing-like-this"}).json() == {"results": [], "message": PICKER_NO_MATCH}
    assert client.get(url).json() == {"results": [], "message": PICKER_PROMPT}
    assert client.get(url, {"q": "%_\\' \x00[[figure:"}).status_code == 200  # odd input: an answer, not a 500

    client.force_login(UserFactory(is_staff=True))  # staff outside the roles: no library
    assert client.get(url, {"q": "skin"}).status_code == 403


def test_the_leaflet_prints_the_figure_from_the_storage(client, editor):
    image = library_image()
    article = ArticleFactory(body=body_with(image.pk), topics=[TopicFactory()])
    publish_reviewed(article, editor=editor)
    article.refresh_from_db()
    response = client.get(f"{article.get_absolute_url()}leaflet.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"/Subtype /Image" in response.content  # the picture itself, read from the storage, not its address
    # Only the snapshot's own pictures: another address under /media/ is refused like any other.
    fetcher = leaflets._fetcher(weasyprint, leaflets.figure_files(article.live_snapshot))
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(settings.SITE_URL + "/media/images/originals/secret.png")
