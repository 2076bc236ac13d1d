from types import SimpleNamespace

import pytest

from articles import citations


def ref(**fields):
    defaults = {
        "authors": [{"family": "Mahmoud", "given": "Rami H"}],
        "title": "A title",
        "journal": "Journal of Things",
        "journal_abbrev": "",
        "year": 2025,
        "volume": "18",
        "issue": "4",
        "pages": "33-40",
        "doi": "",
    }
    return SimpleNamespace(**{**defaults, **fields})


SEED_AUTHORS = [
    {"family": "Mahmoud", "given": "Rami H"},
    {"family": "Peterson", "given": "Erik"},
    {"family": "Badiavas", "given": "Evangelos V"},
    {"family": "Kaminer", "given": "Michael"},
    {"family": "Eber", "given": "Ariel E"},
]


def test_seed_review_in_ama_style():
    seed = ref(
        authors=SEED_AUTHORS,
        title="Exosomes: A Comprehensive Review for the Practicing Dermatologist.",
        journal="Journal of Clinical and Aesthetic Dermatology",
    )
    assert citations.format_ama(seed) == (
        "Mahmoud RH, Peterson E, Badiavas EV, Kaminer M, Eber AE. Exosomes: A Comprehensive Review for the "
        "Practicing Dermatologist. Journal of Clinical and Aesthetic Dermatology. 2025;18(4):33-40."
    )


def test_one_author_and_doi():
    assert citations.format_ama(ref(doi="10.1038/s41467-017-02594-5")) == (
        "Mahmoud RH. A title. Journal of Things. 2025;18(4):33-40. doi:10.1038/s41467-017-02594-5"
    )


def test_six_authors_are_all_listed():
    six = [{"family": f"Author{i}", "given": "A"} for i in range(6)]
    assert citations.format_authors(six).count(",") == 5
    assert "et al" not in citations.format_authors(six)


def test_more_than_six_authors_become_three_and_et_al():
    seven = [{"family": f"Author{i}", "given": "Bea C"} for i in range(7)]
    assert citations.format_authors(seven) == "Author0 BC, Author1 BC, Author2 BC, et al"


def test_group_author_is_written_as_is():
    group = ref(authors=[{"literal": "US Food and Drug Administration"}], volume="", issue="", pages="")
    assert citations.format_ama(group) == "US Food and Drug Administration. A title. Journal of Things. 2025."


def test_nlm_abbreviation_is_preferred():
    assert "J Clin Aesthet Dermatol. 2025" in citations.format_ama(ref(journal_abbrev="J Clin Aesthet Dermatol"))


def test_no_issue():
    assert citations.format_ama(ref(issue="")).endswith("Journal of Things. 2025;18:33-40.")


def test_page_range_dash_is_normalised():
    assert citations.format_ama(ref(pages="1234 – 1238")).endswith("2025;18(4):1234-1238.")


def test_hyphenated_and_dotted_given_names():
    assert citations.format_author({"family": "Dupont", "given": "Jean-Pierre"}) == "Dupont J-P"
    assert citations.format_author({"family": "Smith", "given": "J. R."}) == "Smith JR"


def test_title_ending_in_question_mark_keeps_it():
    assert "Do exosomes work? Journal" in citations.format_ama(ref(title="Do exosomes work?"))


def test_ama_html_escapes_and_links_doi():
    html = str(citations.format_ama_html(ref(title="<script>x</script>", doi="10.1/abc")))
    assert "<script>" not in html
    assert '<a href="https://doi.org/10.1/abc"' in html
    assert "<i>Journal of Things.</i>" in html


def test_keys_in_order_of_first_citation_with_repeats_and_multiple_keys():
    text = "<p>One [@b]. Two [@a; @b]. Three [@c].</p><p>Again [@a].</p>"
    assert citations.citation_keys(text) == ["b", "a", "c"]


def test_markers_render_as_numbered_superscripts():
    text = "<p>One [@b]. Two [@a; @b; @c].</p>"
    rendered = citations.render_markers(text, {"b": 1, "a": 2, "c": 3})
    assert '<sup class="citation" id="cite-1"><a href="#ref-1" aria-label="Reference 1">1</a></sup>' in rendered
    assert 'href="#ref-1"' in rendered.split('id="cite-2"')[1]
    assert "&#8211;" in rendered  # 1-3 collapses to a range
    assert "[@" not in rendered


def test_two_consecutive_numbers_stay_a_list():
    rendered = citations.render_markers("[@a; @b]", {"a": 1, "b": 2})
    assert "&#8211;" not in rendered
    assert rendered.count("<a ") == 2


def test_unknown_key_renders_visibly_in_previews():
    rendered = citations.render_markers("Claim [@nobody].", {})
    assert "citation-missing" in rendered


@pytest.mark.parametrize("bad", ["[@smith 2020]", "[@]", "[@a;; @b]", "[see @a]x[@a, p. 3]"])
def test_malformed_markers_are_reported(bad):
    assert citations.malformed_markers(bad)


def test_first_citation_anchors():
    anchors = citations.first_citation_anchors("[@a] [@b] [@a]", {"a": 1, "b": 2})
    assert anchors == {1: "cite-1", 2: "cite-2"}


def test_key_regex_does_not_match_prefixes():
    import re

    assert re.search(citations.key_regex("hu2016"), "[@hu2016]")
    assert re.search(citations.key_regex("hu2016"), "[@hu2016; @x]")
    assert not re.search(citations.key_regex("hu2016"), "[@hu2016b]")


# --- Sentences and evidence statements ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Smith et al. found faster healing in mice [@a].",
        "Exosomes, e.g. from fat tissue, were used [@a].",
        "Lab cells, i.e. fibroblasts, grew faster [@a].",
        "Treated vs. untreated wounds differed [@a].",
        "Dr. Lee and Prof. Kim ran the study [@a].",
        "See Fig. 2 for the results [@a].",
        "Wounds closed 1.5 times faster in 3.2 days [@a].",
        "The U.S. agency has not approved it [@a].",
        "J. R. Smith led it [@a].",
    ],
)
def test_sentences_do_not_break_on_abbreviations_or_decimals(text):
    assert [s.text for s in citations.sentences(f"<p>{text} Next sentence here.</p>")] == [text, "Next sentence here."]


def test_each_cited_sentence_and_list_item_is_a_statement():
    html = (
        "<h2>What we know</h2><p>Cells send signals. In mice, wounds closed faster [@hu2016]. Experts agree "
        "[@a; @b]!</p><ul><li>In rats, scars were smaller [@wang2017]</li><li>No citation here</li></ul>"
    )
    found = citations.statements(html)
    assert [s.text for s in found] == [
        "In mice, wounds closed faster [@hu2016].",
        "Experts agree [@a; @b]!",
        "In rats, scars were smaller [@wang2017]",
    ]
    assert [s.keys for s in found] == [("hu2016",), ("a", "b"), ("wang2017",)]
    assert [s.marker_indices for s in found] == [(1,), (2,), (3,)]


def test_a_marker_after_the_full_stop_belongs_to_the_sentence_before_it():
    found = citations.sentences("<p>Wounds closed faster. [@hu2016] Then we asked why.</p>")
    assert [(s.text, s.keys) for s in found] == [
        ("Wounds closed faster. [@hu2016]", ("hu2016",)),
        ("Then we asked why.", ()),
    ]


def test_a_statement_hash_ignores_markup_spacing_and_key_order_but_not_words_or_keys():
    base = citations.statements("<p>In mice, wounds closed faster [@a; @b].</p>")[0].hash
    same = [
        "<p>In mice, wounds <strong>closed</strong>   faster [@b; @a].</p>",
        "<p>In mice, wounds closed faster[@a;@b].</p>",
        "<ul><li>In mice, wounds closed faster [@a; @b].</li></ul>",
    ]
    different = [
        "<p>In mice, wounds closed much faster [@a; @b].</p>",
        "<p>In mice, wounds closed faster [@a].</p>",
        "<p>In mice, wounds closed faster [@a; @c].</p>",
    ]
    assert all(citations.statements(html)[0].hash == base for html in same)
    assert all(citations.statements(html)[0].hash != base for html in different)


def test_markers_inside_attributes_are_not_citations():
    html = '<p><a href="https://example.org/[@x]">A link</a> and a claim [@a].</p>'
    assert citations.citation_keys(html) == ["a"]
    assert citations.malformed_markers('<p><a title="[@x y]">t</a></p>') == []
    assert 'href="https://example.org/[@x]"' in citations.render_markers(html, {"a": 1})


def test_labels_are_placed_after_the_statement_they_grade():
    html = "<p>One [@a]. Two [@b].</p>"
    rendered = citations.render_markers(html, {"a": 1, "b": 2}, after={2: lambda closing, _in_link: f"<L>{closing}"})
    assert rendered.index("<L>") > rendered.index('id="cite-2"')
    assert rendered.count("<L>") == 1
    assert rendered.endswith("<L>.</p>")  # the label takes the full stop after it, once


@pytest.mark.parametrize("html", ["", "<p></p>", "<p>[@</p>", "<ul><li><ul><li>[@a]</li></ul></li></ul>", "x" * 10_000])
def test_odd_bodies_do_not_break_statement_extraction(html):
    assert isinstance(citations.statements(html), list)


def test_a_repeated_statement_is_one_claim_at_its_first_place():
    found = citations.statements("<p>A claim [@a]. Another [@b]. A claim [@a].</p>")
    assert [s.text for s in citations.unique_statements(found)] == ["A claim [@a].", "Another [@b]."]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Skin healed in mice.[@a] Nobody knows why.</p>", ["Skin healed in mice.[@a]", "Nobody knows why."]),
        (
            "<p>The answer is no. Small studies found harm [@a].</p>",
            ["The answer is no.", "Small studies found harm [@a]."],
        ),
        ("<p>Take vitamin C. It helps wounds heal [@a].</p>", ["Take vitamin C.", "It helps wounds heal [@a]."]),
        ("<p>See Fig. 2 and No. 5 [@a]. Next.</p>", ["See Fig. 2 and No. 5 [@a].", "Next."]),
        ("<p>Dr. J. Smith agreed [@a]. Next.</p>", ["Dr. J. Smith agreed [@a].", "Next."]),
    ],
)
def test_sentence_ends_that_look_like_abbreviations(html, expected):
    assert [s.text for s in citations.sentences(html)] == expected


def test_a_citation_inside_link_text_does_not_nest_links():
    rendered = citations.render_markers(
        '<p><a href="https://example.org/">see [@x]</a> and [@y].</p>', {"x": 1, "y": 2}
    )
    assert '<a href="https://example.org/">see <sup class="citation" id="cite-1">1</sup></a>' in rendered
    assert '<sup class="citation" id="cite-2"><a href="#ref-2" aria-label="Reference 2">2</a></sup>' in rendered


KNOWN_KEYS = ["mahmoud2025", "hu2016", "kost2022", "mahmoud2024"]


def test_an_unknown_key_gets_one_plain_message_with_the_closest_keys():
    message = citations.unknown_key_message("mahmod2025", KNOWN_KEYS)
    assert message == citations.UNKNOWN_KEY.format(
        key="mahmod2025", suggestion=citations.DID_YOU_MEAN.format(keys="mahmoud2025 or mahmoud2024")
    )
    assert "<" not in message


def test_an_unknown_key_like_no_other_gets_no_suggestion():
    assert citations.unknown_key_message("zzz", KNOWN_KEYS) == citations.UNKNOWN_KEY.format(key="zzz", suggestion="")


def test_suggestions_are_a_handful_at_most():
    known = [f"smith20{n:02}" for n in range(20)]
    assert len(citations.closest_keys("smith2000x", known)) == citations.CLOSEST_KEYS


def test_unknown_key_messages_are_one_per_key():
    messages = citations.unknown_key_messages(["hu2061", "hu2061", "nosuch"], KNOWN_KEYS)
    assert len(messages) == 2
    assert "Did you mean hu2016?" in messages[0]


@pytest.mark.parametrize(
    ("html", "snippets"),
    [
        ("<p>Hair grew [@hu2016</p><p>Next [@kost2022].</p>", ["[@hu2016"]),
        ("<p>A [@hu 2016].</p><p>B [@hu 2016].</p>", ["[@hu 2016]"]),
        ("<p>A [@a] and [@b</p>", ["[@b"]),
        ("<p>A [@x&amp;y].</p>", ["[@x&y]"]),
    ],
)
def test_malformed_markers_are_read_from_the_text_once_each(html, snippets):
    assert citations.malformed_markers(html) == snippets


def test_only_the_first_unknown_keys_get_suggestions_so_a_long_list_stays_quick():
    keys = [f"hu20{n:02}" for n in range(citations.SUGGESTED_FOR + 2)]
    messages = citations.unknown_key_messages(keys, ["hu2016"])
    assert len(messages) == len(keys)
    assert "Did you mean" in messages[0]
    assert messages[-1] == citations.UNKNOWN_KEY.format(key=keys[-1], suggestion="")
