"""The Spanish catalogue (articles/locale/es) and the patient site in Spanish and in English.

The catalogue must be whole: every string patients read has its Spanish, none is fuzzy, the compiled .mo is the
.po, and makemessages finds no string the .po lacks. Until /es/ addresses choose the language, pages are shown in
Spanish here with translation.override("es") around the request (the test client runs the view in this thread).
"""

import datetime
import gettext
import os
import shutil
import subprocess
import sys
import zoneinfo
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import polib
import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from articles import rendering
from articles.forms import SearchForm
from tests.factories import TopicFactory, live_article
from tests.test_leaflet import poppler, weasyprint  # noqa: F401 - the fixtures
from tests.tools import missing

PROJECT = Path(__file__).resolve().parent.parent
CATALOGUE = PROJECT / "articles" / "locale" / "es" / "LC_MESSAGES"
# The README's command ("Spanish interface strings"), less the language.
MAKEMESSAGES = [
    "makemessages",
    "--ignore=.venv",
    "--ignore=staticfiles",
    "--ignore=node_modules",
    "--ignore=media",
    "--ignore=tests",
    "--no-obsolete",
    "--add-location=file",
]
GETTEXT_TOOLS = ("msgfmt", "xgettext", "msgmerge", "msguniq", "msgattrib")  # what makemessages and msgfmt run
PUBLISHED = datetime.datetime(2025, 12, 3, 12, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def require_gettext_tools() -> None:
    """Skip without GNU gettext's tools (Debian's gettext package), or fail under CI=true."""
    if absent := [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]:
        missing(f"GNU gettext is not installed ({', '.join(absent)}): apt-get install gettext")


def test_missing_gettext_fails_under_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="GNU gettext is not installed"):
        require_gettext_tools()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_gettext_tools()


def entries(po: polib.POFile) -> set[tuple[str, str]]:
    return {(entry.msgctxt or "", entry.msgid) for entry in po if not entry.obsolete}


def test_every_string_has_its_spanish_and_none_is_fuzzy():
    po = polib.pofile(str(CATALOGUE / "django.po"))
    assert po.metadata["Language"] == "es"
    assert not po.metadata_is_fuzzy
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    assert [entry.msgid for entry in po.obsolete_entries()] == []
    assert len(po) > 150


def test_the_committed_mo_is_the_compiled_po(tmp_path):
    require_gettext_tools()
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", compiled, CATALOGUE / "django.po"], check=True)
    with compiled.open("rb") as fresh, (CATALOGUE / "django.mo").open("rb") as committed:
        fresh_catalogue = gettext.GNUTranslations(fresh)._catalog
        committed_catalogue = gettext.GNUTranslations(committed)._catalog
    assert committed_catalogue == fresh_catalogue, (
        "django.mo is not the compiled django.po: run `manage.py compilemessages --ignore=.venv` and commit it"
    )


def test_makemessages_finds_no_string_the_catalogue_lacks(tmp_path):
    require_gettext_tools()
    for folder in ("articles", "clinic_site", "templates"):
        shutil.copytree(PROJECT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT / "manage.py", tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES, "-l", "es"],
        cwd=tmp_path,
        env=os.environ,
        check=True,
        capture_output=True,
    )
    found = entries(polib.pofile(str(tmp_path / "articles" / "locale" / "es" / "LC_MESSAGES" / "django.po")))
    committed = entries(polib.pofile(str(CATALOGUE / "django.po")))
    new = sorted(f"{context} {msgid}".strip() for context, msgid in found - committed)
    gone = sorted(f"{context} {msgid}".strip() for context, msgid in committed - found)
    update = 'update the catalogue as the README\'s "Spanish interface strings" says'
    assert not new, f"Strings patients read that have no Spanish yet; {update}: {new}"
    assert not gone, f"The catalogue has strings the code no longer uses; {update}: {gone}"


def test_evidence_labels_are_written_in_the_language_active():
    with translation.override("es"):
        label = rendering.evidence_label("E", claims=2)
    assert "Evidencia de las últimas 2 afirmaciones: " in label
    assert "Estudio en animales" in label
    assert "Animal study" in rendering.evidence_label("E")
    assert "Evidence: " in rendering.evidence_label("E")


@pytest.mark.parametrize(
    ("language", "said"),
    [("es", "Encontramos 1\xa0234 artículos para “piel”."), ("en", "1,234 articles found for “piel”.")],
)
def test_counts_are_grouped_as_the_reader_reads_them(db, language, said):
    card = SimpleNamespace(slug="piel", title="Piel", summary="", is_update=False, published_at=PUBLISHED)
    context = {
        "query": "piel",
        "results": [(card, "")],
        "paginator": SimpleNamespace(count=1234),
        "form": SearchForm({"q": "piel"}),
        "clinic": settings.CLINIC,
    }
    with translation.override(language):
        assert said in render_to_string("articles/search.html", context)


@pytest.fixture
def article(db):
    """A live Spanish article published and reviewed on 3 December 2025: its evidence labels are frozen in Spanish."""
    with mock.patch("django.utils.timezone.now", return_value=PUBLISHED):
        return live_article(title="Exosomas y cicatrización", language="es", topics=[TopicFactory(name="Piel")])


@pytest.fixture
def english_article(db):
    with mock.patch("django.utils.timezone.now", return_value=PUBLISHED):
        return live_article(title="Exosomes and wound healing", topics=[TopicFactory(name="Skin")])


def page(client, url: str, language: str, **post) -> str:
    """The page at `url` in `language`: the address decides (articles/languages.py), so under /es/ for Spanish."""
    if language == "es" and not url.startswith("/es/"):
        url = "/es" + url
    response = client.post(url, post) if post else client.get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)  # 400: a form sent back
    return response.content.decode()


def test_the_article_page_reads_in_spanish_with_spanish_dates(client, article):
    shown = page(client, article.get_absolute_url(), "es")
    assert '<html lang="es">' in shown
    for spanish in (
        "Saltar al contenido principal",
        "Revisado médicamente por",
        "3 de diciembre de 2025",
        "Qué significan las etiquetas de evidencia",
        "Estudio en animales",
        "¿Le resultó útil esta página?",
        "Nuestros artículos son educativos.",
    ):
        assert spanish in shown
    for english in ("Medically reviewed by", "3 December 2025", "Was this page helpful?", "Skip to main content"):
        assert english not in shown
    assert '"inLanguage": "es"' in shown  # JSON-LD
    assert '<meta property="og:locale" content="es_US">' in shown


def test_the_article_page_in_english_is_as_before(client, english_article):
    shown = page(client, english_article.get_absolute_url(), "en")
    assert '<html lang="en">' in shown
    assert "Medically reviewed by" in shown
    assert "3 December 2025" in shown
    assert "What the evidence labels mean" in shown
    assert "de diciembre de" not in shown
    assert '"inLanguage": "en"' in shown
    assert '<meta property="og:locale" content="en_US">' in shown


def test_the_leaflet_prints_in_spanish(client, article, weasyprint, poppler, tmp_path):  # noqa: F811 - fixtures
    pdf = client.get(f"{article.get_absolute_url()}leaflet.pdf").content
    leaflet = tmp_path / "leaflet.pdf"
    leaflet.write_bytes(pdf)
    read = subprocess.run(["pdftotext", "-enc", "UTF-8", leaflet, "-"], capture_output=True, text=True, check=True)
    printed = " ".join(read.stdout.split())
    for spanish in ("Revisado médicamente por", "el 3 de diciembre de 2025", "Estudio en animales", "Página 1 de "):
        assert spanish in printed


def test_the_lists_search_and_missing_pages_read_in_spanish(client, article):
    home = page(client, reverse("articles:home"), "es")
    assert "Información de salud en la que puede confiar" in home
    assert f'Publicado el <time datetime="{PUBLISHED.isoformat()}">3 de diciembre de 2025</time>' in home
    assert "Todos los artículos" in page(client, reverse("articles:article_list"), "es")
    found = page(client, reverse("articles:search") + "?q=exosomas", "es")
    assert "Encontramos 1 artículo para “exosomas”." in found
    nothing = page(client, reverse("articles:search") + "?q=zzzz", "es")
    assert "No encontramos artículos para “zzzz”." in nothing
    assert "No encontramos esa página" in page(client, "/no-such-page/", "es")
    assert "Canal RSS" in home
    assert "artículos de salud" in page(client, reverse("articles:feed_rss"), "es")


def test_the_feedback_form_answers_in_spanish(client, article, english_article):
    url = f"{article.get_absolute_url()}feedback/"
    answer = page(client, url, "es", form="helpful", helpful="maybe")
    assert "Elija Sí o No." in answer
    assert "Sus comentarios todavía no se enviaron." in answer
    report = page(client, url, "es", form="report", kind="other", description="")
    assert "Díganos cuál es el problema." in report
    assert "Otro" in report
    english = f"{english_article.get_absolute_url()}feedback/"
    assert "Choose Yes or No." in page(client, english, "en", form="helpful", helpful="maybe")
