from html import escape
from html.parser import HTMLParser

import pytest

from articles import sanitize
from articles.sanitize import EXTERNAL_LINK_REL, clean_html, clean_link, clean_links, plain_paragraphs, plain_text


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://clinic.example"
    settings.ALLOWED_HOSTS = ["clinic.example", "internal.example"]


@pytest.mark.parametrize(
    "allowed",
    [
        "<h2>Heading</h2>",
        "<h3>Heading</h3>",
        "<p>A <strong>bold</strong> and <em>careful</em> claim.</p>",
        "<ul><li>one</li><li>two</li></ul>",
        "<ol><li>first</li></ol>",
        "<blockquote>Quoted</blockquote>",
        '<table><thead><tr><th scope="col">A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>',
        "<p>Cited text [@mahmoud2025; @hu2016].</p>",
        '<p><a href="/articles/other/">Internal</a></p>',
    ],
)
def test_allowed_markup_survives_unchanged(allowed):
    assert clean_html(allowed) == allowed


@pytest.mark.parametrize(
    ("hostile", "forbidden"),
    [
        ("<script>alert(1)</script><p>ok</p>", "alert"),
        ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "evil"),
        ('<p onclick="alert(1)">x</p>', "onclick"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
        ('<a href="jav&#x09;ascript:alert(1)">x</a>', "alert"),
        ('<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>', "data:"),
        ('<a href="vbscript:msgbox(1)">x</a>', "vbscript"),
        ('<p style="background:url(javascript:alert(1))">x</p>', "style"),
        ('<iframe src="https://evil.example"></iframe>', "iframe"),
        ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', "srcdoc"),
        ("<svg onload=alert(1)><circle r=5 /></svg>", "svg"),
        ("<svg><script>alert(1)</script></svg>", "alert"),
        ("<math><mtext><img src=x onerror=alert(1)></mtext></math>", "onerror"),
        ("<style>body{display:none}</style>", "display"),
        ("<object data=evil.swf></object>", "object"),
        ('<form action="https://evil.example"><input name=q></form>', "form"),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "refresh"),
        ('<base href="https://evil.example/">', "base"),
        ("<p>unclosed <b>bold <i>italic", "<script"),
        ("<<script>alert(1);//<</script>", "<script"),
        ("<!-- <script>alert(1)</script> -->", "alert"),
        ("<![CDATA[<script>alert(1)</script>]]>", "<script"),
        ('<div><p title="</p><script>alert(1)</script>">x</p></div>', "<script"),
    ],
)
def test_hostile_markup_is_removed(hostile, forbidden):
    cleaned = clean_html(hostile)
    assert forbidden.lower() not in cleaned.lower()


def test_malformed_markup_is_balanced():
    assert clean_html("<p>unclosed <strong>bold") == "<p>unclosed <strong>bold</strong></p>"


def test_external_links_get_noopener_nofollow():
    cleaned = clean_html('<p><a href="https://pubmed.ncbi.nlm.nih.gov/1/" rel="dofollow">PubMed</a></p>')
    assert f'rel="{EXTERNAL_LINK_REL}"' in cleaned
    assert "dofollow" not in cleaned


def test_own_site_links_stay_followable():
    cleaned = clean_html('<p><a href="https://clinic.example/articles/x/">More</a></p>')
    assert "rel=" not in cleaned


# Links as staff might paste them, and as an attacker would write them. A browser reads an href by the WHATWG
# URL rules: it strips tabs and newlines and surrounding spaces, reads "\\" as "/" in http(s) URLs, and takes
# any run of slashes after the scheme (or at the start) as the start of a host.
LEAVE_THE_SITE = [
    "//evil.example/phish", "\\\\evil.example", "/\\evil.example", "\\/evil.example", "/\\/evil.example",
    "\\\\\\evil.example", "///evil.example", "////evil.example", " //evil.example", "\t//evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "HTTPS://EVIL.EXAMPLE/", "http:evil.example",
    "http:\\\\evil.example", "https:\\\\evil.example", "https:/\\evil.example", "https:///evil.example",
    "https://clinic.example@evil.example/", "//clinic.example.evil.example/", "https://evil.example\\@clinic.example/",
    "https://pubmed.ncbi.nlm.nih.gov/1/", "https://internal.example/",  # ALLOWED_HOSTS is not SITE_URL's host
    "mailto:hello@clinic.example",
]  # fmt: skip
# The same, spelled with character references in the page source.
LEAVE_THE_SITE_ENCODED = ["&#92;&#92;evil.example", "&#x2f;&#x5c;evil.example", "/&#9;/evil.example", "&#47;&#47;evil"]
STAY_ON_THE_SITE = {
    "/articles/other/": "/articles/other/",
    "#references": "/#references",
    "?page=2": "/?page=2",
    "../topics/skin/": "/topics/skin/",
    "https://clinic.example/x": "/x",
    "//CLINIC.example/x": "/x",
    "http://clinic.example/x": "/x",
    "/%5Cevil.example": "/%5Cevil.example",  # an escaped backslash is a path, not a host
    "https:evil.example": "/evil.example",  # the site's own scheme without slashes: a path on the site
    "https:/evil.example": "/evil.example",
    "//evil.example%2F@clinic.example/": "/",  # a user name, then the site's host
}
NOWHERE_ALLOWED = [
    "javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "\x01javascript:alert(1)",
    "data:text/html,x", "vbscript:x", "file:///etc/passwd", "ftp://evil.example/", "blob:https://clinic.example/x",
    "http://[bad/", "https://clinic.example:99999/",
]  # fmt: skip


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[dict[str, str | None], list[str]]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = []
            self.links.append((dict(attrs), self._open))

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None


def links_in(page: str) -> dict[str, dict[str, str | None]]:
    """Return the attributes of each link in `page` (as a browser reads them), by the link's text."""
    parser = _Links()
    parser.feed(page)
    return {"".join(text).strip(): attributes for attributes, text in parser.links}


def cleaned_link(source_href: str) -> dict[str, str | None]:
    """Return the attributes of the link left when a paragraph linking to `source_href` is cleaned."""
    return links_in(clean_html(f'<p><a href="{source_href}" rel="dofollow">Read more</a></p>'))["Read more"]


@pytest.mark.parametrize("href", LEAVE_THE_SITE)
def test_a_link_that_leaves_the_site_is_marked_external(href):
    assert cleaned_link(escape(href))["rel"] == EXTERNAL_LINK_REL


@pytest.mark.parametrize("source_href", LEAVE_THE_SITE_ENCODED)
def test_a_link_spelled_with_character_references_is_read_as_a_browser_reads_it(source_href):
    assert cleaned_link(source_href)["rel"] == EXTERNAL_LINK_REL


def test_a_character_reference_the_policy_writes_out_as_text_is_read_as_text():
    link = cleaned_link("&sol;&sol;evil.example")  # "&" escaped in the output: the browser reads "&sol;"
    assert (link["href"], "rel" in link) == ("&sol;&sol;evil.example", False)


@pytest.mark.parametrize(("href", "path"), STAY_ON_THE_SITE.items())
def test_a_link_a_browser_keeps_on_the_site_stays_followable(href, path):
    from urllib.parse import urljoin, urlsplit

    link = cleaned_link(escape(href))
    assert "rel" not in link
    resolved = urlsplit(urljoin("https://clinic.example/", link["href"]))
    assert (resolved.hostname, resolved._replace(scheme="", netloc="").geturl()) == ("clinic.example", path)


@pytest.mark.parametrize("href", NOWHERE_ALLOWED)
def test_a_link_to_a_scheme_or_address_patients_may_not_follow_loses_its_href(href):
    link = cleaned_link(escape(href))
    assert "href" not in link
    assert "rel" not in link


LINK_TEXTS = [
    "doi:10.1000/x",
    "<b>bold</b>",
    "a & b",
    "&amp;",
    "</a><a href='javascript:x'>y",
    "<!-- c -->",
    "\x00",
    "x<y",
]


@pytest.mark.parametrize(
    "href", [*LEAVE_THE_SITE, *STAY_ON_THE_SITE, *NOWHERE_ALLOWED, "https://x.example/?a=1&b=\ud800"]
)
def test_a_link_built_in_one_pass_is_what_clean_html_makes_of_it(href):
    from django.utils.html import format_html

    for text in LINK_TEXTS:
        assert clean_link(href, text) == clean_html(format_html('<a href="{}">{}</a>', href, text))


def test_links_cleaned_together_are_each_what_clean_link_makes_of_it():
    hrefs = [*LEAVE_THE_SITE, *STAY_ON_THE_SITE, *NOWHERE_ALLOWED, "</p><p>", "x</p><p>y", "https://x.example/\x00"]
    links = [(href, text) for href in hrefs for text in [*LINK_TEXTS, "</p><p>", "<p>", "\ue000"]]

    cleaned = clean_links(links)

    assert cleaned == {link: clean_link(*link) for link in links}
    assert clean_links([]) == {}


def test_h1_is_reduced_to_text_so_the_page_keeps_one_h1():
    assert clean_html("<h1>Title</h1>") == "Title"


def test_plain_text_strips_markup_and_decodes_entities():
    assert plain_text("<p><p>Exosomes &amp; <i>vesicles</i></p>") == "Exosomes & vesicles"
    assert plain_text("<script>alert(1)</script>Safe") == "Safe"


def test_empty_values():
    assert clean_html("") == ""
    assert plain_text(None) == ""


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ('<p>Intro</p><embed src="https://example.org/v.mp4"><p>Rest of the article.</p>', "Rest of the article."),
        ('<p>Intro</p><iframe src="https://example.org/"><p>Rest.</p>', "Rest."),
        ("<p>Before</p><script>alert(1)<p>After</p>", "After"),
    ],
)
def test_text_after_an_unclosed_code_element_is_kept(value, kept):
    cleaned = clean_html(value)
    assert kept in cleaned
    assert "<embed" not in cleaned
    assert "<iframe" not in cleaned
    assert "<script" not in cleaned


PARAGRAPH_BODIES = [
    "<h2>What the trials found</h2><p>In trial 1, itching fell [@doe2020].</p><ul><li>one &amp; two</li><li>three</li>"
    "</ul><blockquote><p>Quoted &lt; text</p></blockquote><table><caption>Doses</caption><tbody><tr><th>A</th>"
    "<td>1 <b>mg</b></td></tr></tbody></table>",
    "Text before any paragraph<h2>Heading</h2>",
    "<p>A private-use \ue000 character</p><p>next</p>",
    "<p>An open <!-- comment</p><p>swallows the rest of a single pass</p>",
    '<p>An attribute <a title="left open</p><p>after it</p>',
    "<p>Before</p><script>alert(1)<p>After</p>",
    "<p>&lt;b&gt;decoded&lt;/b&gt; markup</p><p>\x00stored</p>",
]


@pytest.mark.parametrize("body", PARAGRAPH_BODIES)
def test_plain_paragraphs_reads_each_block_as_plain_text_reads_it(body):
    """One cleaner pass for all blocks gives each block's plain text, whitespace aside: in malformed markup a
    paragraph that implicitly closes one left open puts a space where a block read alone ran words together."""
    alone = [text for text in (plain_text(block) for block in sanitize._BLOCK_END.split(body)) if text]
    assert [text.split() != [] for text in plain_paragraphs(body)] == [True] * len(alone)
    assert ["".join(text.split()) for text in plain_paragraphs(body)] == ["".join(text.split()) for text in alone]


def test_plain_paragraphs_of_a_body_is_one_cleaner_pass(monkeypatch):
    calls = []
    clean = sanitize._text_cleaner.clean
    monkeypatch.setattr(sanitize._text_cleaner, "clean", lambda value: calls.append(value) or clean(value))
    assert sanitize._plain_paragraphs(PARAGRAPH_BODIES[0]) == [
        "What the trials found",
        "In trial 1, itching fell [@doe2020].",
        "one & two",
        "three",
        "Quoted < text",
        "Doses",
        "A",
        "1 mg",
    ]
    assert len(calls) == 1


def test_plain_text_keeps_what_follows_a_stray_svg_tag():
    assert plain_text("Jane Doe <svg> MD, board-certified") == "Jane Doe MD, board-certified"
