"""Spanish articles: search in Spanish (accents ignored), Spanish red flags and claim checks, Spanish readability
and sentence splitting, each through the code staff and patients use."""

import pytest
from django.urls import reverse

from articles import citations, claims, workflow
from articles.models import RedFlagPhrase
from tests.factories import (
    ArticleFactory,
    DisclaimerFactory,
    ReferenceFactory,
    TopicFactory,
    live_article,
    member_of,
)

pytestmark = pytest.mark.django_db

SPANISH_STATEMENT = (
    "Los exosomas aceleraron la cicatrización de heridas en ratones (p. ej., en úlceras diabéticas) [@key]."
)


def titles(client, path, query):
    response = client.get(path, {"q": query})
    assert response.status_code == 200
    return [snapshot.title for snapshot, _snippet in response.context["results"]]


def spanish_disclaimer():
    DisclaimerFactory()
    DisclaimerFactory(language="es", text="<p>Este artículo es educativo. No es consejo médico.</p>")


@pytest.fixture
def wound_articles():
    key = ReferenceFactory().citation_key
    spanish_disclaimer()
    live_article(
        title="Cicatrización de heridas con exosomas",
        summary="Lo que sabemos de la cicatrización.",
        body=f"<p>En ratones, la cicatrización fue más rápida [@{key}].</p>",
        language="es",
    )
    live_article(
        title="Wound healing with exosomes",
        summary="Cicatrización is the Spanish word for healing.",
        body=f"<p>In mice, wounds healed faster [@{key}].</p>",
    )


def test_each_language_finds_only_its_own_pages_and_spanish_ignores_accents(client, wound_articles):
    spanish, english = "/es/search/", reverse("articles:search")
    assert titles(client, spanish, "cicatrización") == ["Cicatrización de heridas con exosomas"]
    assert titles(client, spanish, "cicatrizacion") == ["Cicatrización de heridas con exosomas"]
    assert titles(client, english, "cicatrización") == ["Wound healing with exosomes"]  # English page only
    assert titles(client, english, "healing") == ["Wound healing with exosomes"]
    assert titles(client, spanish, "healing") == []
    page = client.get(spanish, {"q": "cicatrizacion"}).content.decode()
    assert "<mark>cicatrización</mark>" in page


def test_typo_tolerance_stays_in_its_language(client, wound_articles):
    assert titles(client, "/es/search/", "cicatrisación") == ["Cicatrización de heridas con exosomas"]
    assert titles(client, reverse("articles:search"), "exosomess") == ["Wound healing with exosomes"]


@pytest.mark.parametrize(
    "query",
    ["", "   ", "´´´ ¨¨", "áéíóú ñ", "x" * 5000, "'; DROP TABLE articles_article; --", "a & b | !c <-> (d", "¿¡"],
)
def test_the_spanish_search_page_takes_malformed_queries_calmly(client, wound_articles, query):
    response = client.get("/es/search/", {"q": query})
    assert response.status_code == 200


def test_the_spanish_search_page_has_the_fixed_query_count(client, wound_articles, django_assert_num_queries):
    with django_assert_num_queries(3):
        assert client.get("/es/search/", {"q": "heridas"}).status_code == 200


def test_a_spanish_search_reads_the_full_text_index(wound_articles):
    from articles.search import matching
    from tests.test_query_plans import plan

    found = matching("cicatrizacion", language="es").values_list("pk", flat=True)
    assert "snapshot_search_vector" in plan(found, off=("seqscan", "indexscan"), search=True)


def flags(language):
    return [claims.RedFlag(f.phrase, f.why, f.instead) for f in RedFlagPhrase.objects.checked_in(language)]


@pytest.mark.parametrize(
    ("sentence", "phrase"),
    [
        ("Este tratamiento cura la calvicie.", "cura"),
        ("Las cremas curan las cicatrices.", "cura"),
        ("Un resultado milagroso en una semana.", "milagro"),
        ("Es un producto aprobado por la FDA.", "aprobado por la FDA"),
        ("Resultados garantizados.", "garantizado"),
        ("El tratamiento garantiza resultados.", "garantizado"),
        ("Clinicamente probado.", "clínicamente probado"),
        ("Es 100 % natural.", "100% natural"),
        ("Elimina las arrugas en días.", "elimina"),
        ("Un suero que rejuvenece la piel.", "rejuvenece"),
        ("Sin efectos secundarios.", "sin efectos secundarios"),
    ],
)
def test_spanish_red_flags_match_spanish_word_forms(sentence, phrase):
    found = claims.red_flags(sentence, flags("es"), language="es")
    assert [f.phrase for f in found] == [phrase]
    assert found[0].blocking


@pytest.mark.parametrize(
    "sentence",
    ["No es una cura.", "Ningún tratamiento cura la calvicie.", "Nunca ha curado a nadie."],
)
def test_spanish_negation_is_reported_and_does_not_block(sentence):
    (found,) = claims.red_flags(sentence, flags("es"), language="es")
    assert found.negated
    assert not found.blocking


def test_no_solo_still_claims():
    (found,) = claims.red_flags("No solo cura la piel.", flags("es"), language="es")
    assert not found.negated


def test_only_the_articles_language_phrases_apply():
    assert claims.red_flags("Una curva segura y recurrente.", flags("es"), language="es") == []
    assert {phrase.language for phrase in RedFlagPhrase.objects.checked_in("es")} == {"es"}
    found = claims.check_article(
        title="Una cura", summary="", body_html="", flags=flags("es"), levels={}, language="es"
    )
    assert [f.phrase for f in found] == ["cura"]


def test_spanish_evidence_checks_read_spanish_words():
    assert claims.evidence_wording(SPANISH_STATEMENT, "E", language="es") == []  # says "en ratones"
    (found,) = claims.evidence_wording("Los exosomas aceleraron la cicatrización [@key].", "E", language="es")
    assert found.rule == "evidence_wording"
    (strong,) = claims.evidence_wording("Se ha demostrado que ayuda a las heridas en ratones.", "E", language="es")
    assert strong.rule == "strong_wording"
    assert claims.evidence_wording("No se ha demostrado en ratones que ayude.", "E", language="es") == []
    (label,) = claims.label_contradictions("En 40 personas, las heridas cerraron antes.", "E", language="es")
    assert "people" in label.message
    assert claims.label_contradictions("En células de piel humana, crecieron más.", "F", language="es") == []
    assert claims.label_contradictions("Faltan estudios en personas; en ratones ayudó.", "E", language="es") == []
    (fda,) = claims.fda_wording("El producto está aprobado por la FDA.", language="es")
    assert fda.rule == "fda_wording"
    assert claims.fda_wording("La FDA no lo ha aprobado.", language="es") == []


def test_spanish_treatment_sections_and_key_points():
    body = (
        "<h2>Beneficios</h2><p>x</p><h2>Riesgos y efectos secundarios</h2><p>x</p><h2>Alternativas</h2><p>x</p>"
        "<h2>Lo que no se sabe</h2><p>x</p><h2>Dónde pedir ayuda</h2><p>x</p>"
    )
    assert all(present for _label, present in claims.treatment_checklist(body, language="es"))
    assert len(claims.missing_sections(body)) == 5  # read as English, none of it counts
    assert claims.is_supported(
        "Las heridas cerraron antes en ratones.", ["En ratones, las heridas cerraron antes [@a]."], language="es"
    )


def test_spanish_readability_is_szigriszt_pazos_on_the_inflesz_scale():
    easy = claims.readability("<p>La herida se cierra. Lave la piel con agua. Use crema.</p>", language="es")
    assert easy.ease >= claims.INFLESZ_TARGET
    assert easy.findings == []
    hard = claims.readability(
        "<p>La administración intradérmica de vesículas extracelulares derivadas de células madre mesenquimales "
        "incrementó significativamente la reepitelización y la angiogénesis en modelos murinos de úlceras "
        "crónicas, aproximadamente, p. ej., en heridas diabéticas experimentalmente inducidas.</p>",
        language="es",
    )
    (finding,) = hard.findings
    assert finding.blocking
    assert "INFLESZ" in finding.message
    assert "bastante fácil" in hard.summary
    assert len(hard.longest_sentences) == 1  # "aproximadamente, p. ej.," did not end it


def test_spanish_sentences_keep_abbreviations_whole():
    text = (
        "Lo dijo la Dra. Pérez. ¿Funciona en personas? ¡No se sabe! En EE. UU. la FDA no lo ha aprobado. "
        "Ver pág. 33 y fig. 2. Fue el 1.º de mayo. Cremas, sueros, etc. Luego más."
    )
    assert citations.split_sentences(text, language="es") == [
        "Lo dijo la Dra. Pérez.",
        "¿Funciona en personas?",
        "¡No se sabe!",
        "En EE. UU. la FDA no lo ha aprobado.",
        "Ver pág. 33 y fig. 2.",
        "Fue el 1.º de mayo.",
        "Cremas, sueros, etc.",
        "Luego más.",
    ]
    (statement,) = citations.statements(f"<p>{SPANISH_STATEMENT} Otra frase.</p>", language="es")
    assert statement.text == SPANISH_STATEMENT


def test_english_statement_hashes_do_not_move():
    html = "<p>Dr. Smith found it helps, e.g. in mice [@a]. Then more.</p>"
    assert citations.statements(html) == citations.statements(html, language="en")


def test_a_spanish_article_is_split_approved_and_labelled_in_spanish(client):
    spanish_disclaimer()
    key = ReferenceFactory().citation_key
    body = f"<p>Según la Dra. Pérez, en ratones las heridas cerraron antes [@{key}]. No es una cura.</p>"
    article = live_article(title="Heridas", summary="Lo que sabemos.", body=body, language="es")
    (statement,) = article.live_snapshot.statements
    assert statement["text"] == f"Según la Dra. Pérez, en ratones las heridas cerraron antes [@{key}]."
    page = client.get(article.live_snapshot.get_absolute_url()).content.decode()
    assert "evidence-label evidence-e" in page  # the rendering found the statement the reviewer approved


def test_lint_articles_checks_a_spanish_article_with_spanish_phrases(capsys):
    from django.core.management import call_command

    spanish_disclaimer()
    key = ReferenceFactory().citation_key
    body = f"<p>En ratones, las heridas cerraron antes [@{key}]. No es una cura.</p>"
    live_article(title="Heridas", summary="Lo que sabemos.", body=body, language="es", slug="heridas")
    call_command("lint_articles")
    output = capsys.readouterr().out
    assert "heridas: red_flag (negated): “cura”" in output


def test_the_review_desk_shows_the_spanish_reading_ease_and_flags(client):
    article = ArticleFactory(
        language="es",
        title="Una cura milagrosa",
        body="<p>La administración intradérmica de vesículas extracelulares derivadas de células madre "
        "mesenquimales incrementó significativamente la reepitelización.</p>",
        topics=[TopicFactory()],
    )
    workflow.submit_for_review(article, by=member_of("Writers"))
    client.force_login(member_of("Reviewers"))
    page = client.get(reverse("articles:review_article", args=[article.pk])).content.decode()
    assert "Szigriszt-Pazos" in page
    assert "bastante fácil" in page
    assert "“cura”" in page
    assert "“milagrosa”" in page
    assert "US grade" not in page
