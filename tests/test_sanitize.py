import pytest

from articles.sanitize import EXTERNAL_LINK_REL, clean_html, plain_text


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://clinic.example"
    settings.ALLOWED_HOSTS = ["clinic.example"]


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
        '<p><a href="mailto:hello@clinic.example">Email us</a></p>',
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


def test_plain_text_keeps_what_follows_a_stray_svg_tag():
    assert plain_text("Jane Doe <svg> MD, board-certified") == "Jane Doe MD, board-certified"
