"""articles/rendering.py: a working copy becomes numbered citations, evidence labels and a reference list."""

import pytest

from articles import citations
from articles.models import Reference
from articles.rendering import NOT_YET_APPROVED, render_article
from tests.factories import ArticleFactory, ReferenceFactory

pytestmark = pytest.mark.django_db


def test_references_are_numbered_in_order_of_first_citation_not_of_the_keys():
    ReferenceFactory(citation_key="alpha2020")
    ReferenceFactory(citation_key="beta2021")
    article = ArticleFactory(body="<p>First [@beta2021]. Then [@alpha2020]. Again [@beta2021].</p>")
    rendered = render_article(article)
    assert [(entry["number"], entry["key"]) for entry in rendered.references] == [(1, "beta2021"), (2, "alpha2020")]
    assert [ref.citation_key for ref in rendered.cited] == ["beta2021", "alpha2020"]
    assert rendered.body_html.count('href="#ref-1"') == 2
    assert rendered.body_html.count('href="#ref-2"') == 1
    # The reference list links back to the first place each reference is cited.
    assert [entry["backlink"] for entry in rendered.references] == ["cite-1", "cite-2"]


def test_three_consecutive_numbers_collapse_to_a_range():
    for key in ("a1", "a2", "a3"):
        ReferenceFactory(citation_key=key)
    rendered = render_article(ArticleFactory(body="<p>Claim [@a1; @a2; @a3].</p>"))
    assert '<sup class="citation" id="cite-1">' in rendered.body_html
    assert "&#8211;" in rendered.body_html
    assert 'href="#ref-2"' not in rendered.body_html


def test_unknown_keys_and_unreadable_markers_are_reported_not_rendered_as_numbers():
    ReferenceFactory(citation_key="known2024")
    article = ArticleFactory(body="<p>Known [@known2024]. Unknown [@nobody1999]. Broken [@bad key].</p>")
    rendered = render_article(article)
    assert rendered.unknown_keys == ["nobody1999"]
    assert [entry["key"] for entry in rendered.references] == ["known2024"]
    assert rendered.malformed_markers  # the writer is told; the preview shows it
    assert 'class="citation-missing"' in rendered.body_html


def test_each_approved_statement_carries_its_evidence_label_and_unapproved_ones_are_marked_in_previews():
    ReferenceFactory(citation_key="trial2023")
    ReferenceFactory(citation_key="mice2022")
    article = ArticleFactory(body="<p>Healing was faster [@trial2023]. Mice grew hair [@mice2022].</p>")
    approved, _unapproved = citations.statements(article.body)
    live = render_article(article, levels={approved.hash: "B"})
    assert live.body_html.count('class="evidence-label evidence-b"') == 1
    assert "Randomised trial in people" in live.body_html
    assert NOT_YET_APPROVED not in live.body_html  # patients never see the preview's marks
    preview = render_article(article, levels={approved.hash: "B"}, mark_unapproved=True)
    assert preview.body_html.count(NOT_YET_APPROVED) == 1
    label_at, mark_at = preview.body_html.index("evidence-b"), preview.body_html.index(NOT_YET_APPROVED)
    assert label_at < preview.body_html.index("Mice grew hair") < mark_at


def test_a_reference_record_is_plain_text_and_escaped_in_the_reference_list():
    ReferenceFactory(citation_key="xss2020", title='Exosomes <script>alert(1)</script> at 5 < 6 & "and" you')
    entry = render_article(ArticleFactory(body="<p>Claim [@xss2020].</p>")).references[0]
    assert "script" not in entry["title"]
    assert "script" not in entry["ama_html"]
    assert "5 &lt; 6 &amp; &quot;and&quot; you" in entry["ama_html"]


@pytest.mark.parametrize("count", [1, 40])
def test_rendering_reads_the_references_in_one_query_whatever_their_number(count, django_assert_num_queries):
    keys = [ReferenceFactory(citation_key=f"many{n}").citation_key for n in range(count)]
    article = ArticleFactory(body="".join(f"<p>Claim {n} [@{key}].</p>" for n, key in enumerate(keys)))
    with django_assert_num_queries(1):
        rendered = render_article(article, mark_unapproved=True)
    assert len(rendered.references) == count


# --- Evidence labels on a phone: the full stop stays with its label, one label for a run, a link to the legend ---


def labelled(body: str, levels_by_start: dict[str, str], **kwargs) -> str:
    """Render `body` with the statements that start with each given text approved at the given level."""
    for key in ("mice2022", "trial2023"):
        if not Reference.objects.filter(citation_key=key).exists():
            ReferenceFactory(citation_key=key)
    article = ArticleFactory(body=body)
    levels = {
        s.hash: level
        for s in citations.statements(body)
        for start, level in levels_by_start.items()
        if s.text.startswith(start)
    }
    return render_article(article, levels=levels, **kwargs).body_html


def test_the_label_carries_the_full_stop_of_its_statement_in_one_unbreakable_piece():
    html = labelled("<p>Wounds closed faster in mice [@mice2022]. Next sentence.</p>", {"Wounds": "E"})
    assert (
        '<sup class="citation" id="cite-1"><a href="#ref-1" aria-label="Reference 1">1</a></sup> '
        '<span class="evidence-tail"><a class="evidence-label evidence-e" href="#evidence-labels">'
        '<span class="visually-hidden">Evidence: </span>Animal study</a>.</span> Next sentence.'
    ) in html
    # Other closing punctuation goes with it too; a statement without any still gets its piece.
    html = labelled(
        "<ul><li>In mice (a small study [@mice2022]).</li><li>Mice again [@trial2023]</li></ul>",
        {"In mice": "E", "Mice again": "E"},
    )
    assert "Animal study</a>).</span></li>" in html
    assert "Animal study</a></span></li>" in html


def test_consecutive_statements_with_the_same_level_in_one_paragraph_show_one_label_after_the_last():
    body = (
        "<p>Mice healed faster [@mice2022]. Mice had smaller scars [@mice2022]. Rats grew skin [@mice2022]. "
        "People did better [@trial2023]. Mice again [@mice2022].</p><p>Mice in a new paragraph [@mice2022].</p>"
    )
    html = labelled(body, {"Mice": "E", "Rats": "E", "People": "B"})
    assert html.count("evidence-label evidence-e") == 3  # the run of three, the one after B, the next paragraph
    assert html.count("evidence-label evidence-b") == 1
    run_label = '<span class="visually-hidden">Evidence for the last 3 claims: </span>Animal study'
    assert html.index("Rats grew skin") < html.index(run_label) < html.index("People did better")
    assert html.count('<span class="visually-hidden">Evidence: </span>Animal study') == 2


def test_an_unlabelled_sentence_between_two_statements_ends_the_run():
    body = (
        "<p>Mice healed [@mice2022]. Nobody knows why. Mice scarred less [@mice2022]. Mice grew hair [@trial2023].</p>"
    )
    html = labelled(body, {"Mice healed": "E", "Mice scarred": "E"}, mark_unapproved=True)
    assert html.count('<span class="visually-hidden">Evidence: </span>Animal study') == 2
    assert html.count(NOT_YET_APPROVED) == 1
    assert html.index("Mice scarred") < html.index("evidence-e", html.index("Nobody knows"))


def test_a_label_inside_a_link_is_not_a_link_itself():
    html = labelled('<p><a href="https://example.org/">Mice healed [@mice2022]</a>.</p>', {"Mice": "E"})
    assert '<span class="evidence-label evidence-e">' in html
    assert 'href="#evidence-labels"' not in html


def test_rendering_is_deterministic_and_the_content_hash_ignores_the_label_markup():
    body = "<p>Mice healed faster [@mice2022]. Mice had smaller scars [@mice2022].</p>"
    first, second = labelled(body, {"Mice": "E"}), labelled(body, {"Mice": "E"})
    assert first == second
    article = ArticleFactory(body=body)
    before = article.content_hash()
    render_article(article, levels={s.hash: "E" for s in citations.statements(body)})
    assert article.content_hash() == before


# --- Key points and "On this page" (issue 15) ----------------------------------------------------------------------


def test_key_points_are_numbered_first_and_carry_their_own_citation_ids_and_labels():
    ReferenceFactory(citation_key="body2020")
    ReferenceFactory(citation_key="point2021")
    article = ArticleFactory(
        key_points="<ul><li>In mice, wounds closed faster [@point2021].</li><li>Ask about other options.</li></ul>",
        body="<p>First [@body2020]. In mice, wounds closed faster [@point2021].</p>",
    )
    (point,) = citations.statements(article.key_points)

    rendered = render_article(article, levels={point.hash: "E"}, mark_unapproved=True)

    assert [entry["key"] for entry in rendered.references] == ["point2021", "body2020"]
    assert '<sup class="citation" id="key-point-cite-1">' in rendered.key_points_html
    assert 'id="cite-1"' not in rendered.key_points_html
    assert 'id="key-point-cite' not in rendered.body_html
    # The same sentence citing the same key is one statement: approved once, labelled in both places.
    assert rendered.key_points_html.count("Animal study") == rendered.body_html.count("Animal study") == 1
    assert rendered.body_html.count(NOT_YET_APPROVED) == 1  # "First [@body2020]."
    # A reference first cited in the key points links back there.
    assert [entry["backlink"] for entry in rendered.references] == ["key-point-cite-1", "cite-1"]


def test_no_key_points_render_nothing():
    assert render_article(ArticleFactory(body="<p>Text.</p>")).key_points_html == ""


def test_a_body_with_three_sections_gets_unique_stable_ids_and_contents():
    ReferenceFactory(citation_key="a1")
    body = (
        "<h2>What it is</h2><p>Text.</p><h2>Risks &amp; side effects [@a1]</h2><p>Text.</p>"
        "<h2>What it is</h2><p>Again.</p><h3>Not a section</h3>"
    )
    rendered = render_article(ArticleFactory(body=body))

    assert rendered.contents == [
        {"id": "section-what-it-is", "title": "What it is"},
        {"id": "section-risks-side-effects", "title": "Risks & side effects"},
        {"id": "section-what-it-is-2", "title": "What it is"},
    ]
    assert '<h2 id="section-what-it-is">What it is</h2>' in rendered.body_html
    assert '<h2 id="section-risks-side-effects">Risks &amp; side effects <sup' in rendered.body_html
    assert '<h2 id="section-what-it-is-2">' in rendered.body_html
    assert "<h3>Not a section</h3>" in rendered.body_html


def test_a_body_with_fewer_than_three_sections_gets_no_contents():
    rendered = render_article(ArticleFactory(body="<h2>One</h2><p>Text.</p><h2>Two</h2><p>Text.</p>"))
    assert rendered.contents == []
    assert "<h2>One</h2>" in rendered.body_html
