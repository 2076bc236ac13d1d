"""articles/structured_data.py: the JSON-LD on article pages, from the same snapshot as the visible text."""

import json
import re

import pytest

from tests.factories import ReferenceFactory, live_article

pytestmark = pytest.mark.django_db


def json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def test_json_ld_describes_the_page_from_the_same_fields_as_the_visible_text(client, settings):
    reference = ReferenceFactory(doi="10.1038/srep32993", pmid="27615560", title="Adipose stem cell exosomes")
    article = live_article(title="Exosomes & wounds: 1 < 2", reference=reference)
    snapshot = article.live_snapshot
    page = client.get(article.get_absolute_url()).content.decode()
    data = json_ld(page)
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == snapshot.title == "Exosomes & wounds: 1 < 2"
    assert data["url"] == settings.SITE_URL + article.get_absolute_url()
    assert data["author"]["name"] == snapshot.author["name"]
    assert data["reviewedBy"]["name"] == snapshot.reviewed_by["name"]
    assert data["reviewedBy"]["honorificSuffix"] == snapshot.reviewed_by["credentials"]
    assert data["lastReviewed"] in page  # the visible "Last reviewed" date carries the same ISO date
    assert data["datePublished"] == snapshot.first_published_at.isoformat()
    assert data["dateModified"] == snapshot.published_at.isoformat()
    assert data["audience"] == {"@type": "Patient"}
    assert data["publisher"]["name"] == settings.CLINIC["name"]
    assert [topic["name"] for topic in data["about"]] == [topic["name"] for topic in snapshot.topics]
    (citation,) = data["citation"]
    assert citation["@type"] == "ScholarlyArticle"
    assert citation["identifier"]["value"] == "10.1038/srep32993"
    assert citation["sameAs"] == "https://doi.org/10.1038/srep32993"


def test_json_ld_cannot_be_broken_out_of():
    from articles.structured_data import as_script

    script = str(as_script({"name": "</script><script>alert(1)</script> & <!--"}))
    assert script.count("</script>") == 1
    assert "<!--" not in script
    assert json.loads(script.removeprefix('<script type="application/ld+json">').removesuffix("</script>")) == {
        "name": "</script><script>alert(1)</script> & <!--"
    }
