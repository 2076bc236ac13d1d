"""One publish parses and renders an article's body and key points once each (articles/parse_once.py)."""

from collections import Counter

import pytest

from articles import citations, rendering, sanitize, workflow
from articles.parse_once import parse_once, parsed
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, review, sitewide_disclaimer

pytestmark = pytest.mark.django_db

STATEMENTS = 30


def count_calls(monkeypatch, module, name: str) -> Counter:
    """Wrap the real function `module.name` so it still runs, counting its calls by the text it is given."""
    real, calls = getattr(module, name), Counter()

    def counted(text, *args, **kwargs):
        calls[text] += 1
        return real(text, *args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def signed_off_article():
    refs = ReferenceFactory.create_batch(5)
    body = "<h2>What the trials found</h2>" + "".join(
        f"<p>In trial {n}, people who used the cream itched less [@{refs[n % 5].citation_key}].</p>"
        for n in range(1, STATEMENTS + 1)
    )
    key_points = f"<ul><li>The cream eased itching in small trials [@{refs[0].citation_key}].</li></ul>"
    article = ArticleFactory(body=body, key_points=key_points, topics=[TopicFactory()])
    sitewide_disclaimer()
    review(article, level="B", certainty="moderate")
    article.refresh_from_db()
    return article


def test_publish_parses_and_renders_the_body_and_key_points_once_each(monkeypatch, editor):
    article = signed_off_article()
    markers = count_calls(monkeypatch, citations, "_find_markers")
    sentences = count_calls(monkeypatch, citations, "_sentence_blocks")
    paragraphs = count_calls(monkeypatch, sanitize, "_plain_paragraphs")
    marked = count_calls(monkeypatch, citations, "render_markers")
    renders = count_calls(monkeypatch, rendering, "_render_article")

    snapshot = workflow.publish(article, by=editor)

    assert len(snapshot.statements) == STATEMENTS + 1
    texts = {article.body: 1, article.key_points: 1}
    assert markers == texts
    assert sentences == texts
    assert marked == texts
    assert paragraphs == {article.body: 1}  # the readability check's and the snapshot's plain text
    assert sum(renders.values()) == 1


def test_publish_freezes_the_rendering_a_fresh_one_would_make(editor):
    article = signed_off_article()
    status = workflow.review_status(article)
    fresh = rendering.render_article(article, levels=status.levels)

    snapshot = workflow.publish(article, by=editor)

    assert "evidence-label" in snapshot.body_html
    assert (snapshot.body_html, snapshot.key_points_html) == (fresh.body_html, fresh.key_points_html)
    assert snapshot.references == fresh.references


def test_a_text_edited_after_a_publish_is_parsed_afresh(editor):
    article = signed_off_article()
    workflow.publish(article, by=editor)
    article.body += f"<p>A new trial agreed [@{article.citation_keys[0]}].</p>"

    status = workflow.review_status(article)

    assert status.statements[-1].sentence.normalised_text == "A new trial agreed."
    assert not status.statements[-1].is_approved


def test_parsers_share_what_they_found_only_within_a_block():
    calls = []

    def parser(text):
        calls.append(text)
        return [text.upper()]

    parsed(parser, "a"), parsed(parser, "a")
    assert calls == ["a", "a"]  # outside a block every call parses

    calls.clear()
    with parse_once():
        first = parsed(parser, "a")
        with parse_once():  # a nested block shares the outer memo
            assert parsed(parser, "a") is first
        parsed(parser, "b")
    parsed(parser, "a")
    assert calls == ["a", "b", "a"]
