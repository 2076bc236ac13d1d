"""One small vocabulary of publication types, and what each export format calls them.

PubMed publication types, CSL and Crossref types, RIS TY codes, BibTeX entry types and the aggregator's
strings all name the same few kinds of work in different words ("Journal Article", "article-journal",
"JOUR", "article", "JournalArticle"). References store one of `PublicationType`'s values, so the admin
filter lists each kind once and reviewers see the study design the record claims.

A record may give several types (PubMed lists "Journal Article", "Review", "Systematic Review"): the most
specific one is kept, in the order of `PRIORITY` (the designs a reviewer grades evidence by come first).
"""

import re
from collections.abc import Iterable

from django.db import models


class PublicationType(models.TextChoices):
    JOURNAL_ARTICLE = "journal article", "Journal article"
    REVIEW = "review", "Review"
    SYSTEMATIC_REVIEW = "systematic review", "Systematic review"
    META_ANALYSIS = "meta-analysis", "Meta-analysis"
    RANDOMISED_TRIAL = "randomised controlled trial", "Randomised controlled trial"
    CLINICAL_TRIAL = "clinical trial", "Clinical trial"
    OBSERVATIONAL_STUDY = "observational study", "Observational study"
    CASE_REPORT = "case report", "Case report or case series"
    GUIDELINE = "guideline", "Guideline or consensus statement"
    EDITORIAL = "editorial", "Editorial, comment or letter"
    PREPRINT = "preprint", "Preprint (not peer reviewed)"
    CONFERENCE_PAPER = "conference paper", "Conference paper or abstract"
    BOOK = "book", "Book or book chapter"
    REPORT = "report", "Report or thesis"
    WEB_PAGE = "web page", "Web page"
    OTHER = "other", "Other"


T = PublicationType
# Most specific first: a record that is a "Journal Article" and a "Meta-Analysis" is a meta-analysis.
PRIORITY = [
    T.META_ANALYSIS, T.SYSTEMATIC_REVIEW, T.RANDOMISED_TRIAL, T.CLINICAL_TRIAL, T.OBSERVATIONAL_STUDY,
    T.CASE_REPORT, T.GUIDELINE, T.REVIEW, T.EDITORIAL, T.PREPRINT, T.CONFERENCE_PAPER, T.BOOK, T.REPORT,
    T.WEB_PAGE, T.JOURNAL_ARTICLE, T.OTHER,
]  # fmt: skip

# Names as written by any source, compared after _simplify (lower case, "randomized" as "randomised",
# CamelCase split, punctuation as spaces). A name that maps to None says nothing about the kind of work
# ("Research Support, Non-U.S. Gov't", "English Abstract"): it is skipped.
NAMES: dict[str, PublicationType | None] = {
    # Journal articles, as PubMed, CSL, Crossref, BibTeX, RIS labels and the aggregators write them.
    "journal article": T.JOURNAL_ARTICLE, "article journal": T.JOURNAL_ARTICLE, "article": T.JOURNAL_ARTICLE,
    "journal": T.JOURNAL_ARTICLE, "electronic article": T.JOURNAL_ARTICLE, "journal full": T.JOURNAL_ARTICLE,
    "in press": T.JOURNAL_ARTICLE, "abstract": T.JOURNAL_ARTICLE, "study": T.JOURNAL_ARTICLE,
    "research article": T.JOURNAL_ARTICLE, "original article": T.JOURNAL_ARTICLE,
    "review": T.REVIEW, "review article": T.REVIEW, "scoping review": T.REVIEW, "narrative review": T.REVIEW,
    "review book": T.REVIEW, "systematic review": T.SYSTEMATIC_REVIEW, "systematic review and meta analysis":
    T.META_ANALYSIS, "meta analysis": T.META_ANALYSIS, "network meta analysis": T.META_ANALYSIS,
    "randomised controlled trial": T.RANDOMISED_TRIAL, "randomised controlled trial veterinary": T.RANDOMISED_TRIAL,
    "randomised clinical trial": T.RANDOMISED_TRIAL, "rct": T.RANDOMISED_TRIAL,
    "clinical trial": T.CLINICAL_TRIAL, "controlled clinical trial": T.CLINICAL_TRIAL,
    "clinical trial phase i": T.CLINICAL_TRIAL, "clinical trial phase ii": T.CLINICAL_TRIAL,
    "clinical trial phase iii": T.CLINICAL_TRIAL, "clinical trial phase iv": T.CLINICAL_TRIAL,
    "clinical trial veterinary": T.CLINICAL_TRIAL, "pragmatic clinical trial": T.CLINICAL_TRIAL,
    "adaptive clinical trial": T.CLINICAL_TRIAL, "equivalence trial": T.CLINICAL_TRIAL,
    "observational study": T.OBSERVATIONAL_STUDY, "observational study veterinary": T.OBSERVATIONAL_STUDY,
    "cohort study": T.OBSERVATIONAL_STUDY, "case control study": T.OBSERVATIONAL_STUDY,
    "cross sectional study": T.OBSERVATIONAL_STUDY, "twin study": T.OBSERVATIONAL_STUDY,
    "case reports": T.CASE_REPORT, "case report": T.CASE_REPORT, "case series": T.CASE_REPORT,
    "guideline": T.GUIDELINE, "practice guideline": T.GUIDELINE, "consensus development conference": T.GUIDELINE,
    "consensus development conference nih": T.GUIDELINE, "consensus statement": T.GUIDELINE,
    "editorial": T.EDITORIAL, "comment": T.EDITORIAL, "letter": T.EDITORIAL, "letters and comments": T.EDITORIAL,
    "news": T.EDITORIAL, "interview": T.EDITORIAL, "personal narrative": T.EDITORIAL,
    "preprint": T.PREPRINT, "posted content": T.PREPRINT, "unpublished work": T.PREPRINT,
    "conference": T.CONFERENCE_PAPER, "conference paper": T.CONFERENCE_PAPER, "paper conference": T.CONFERENCE_PAPER,
    "proceedings article": T.CONFERENCE_PAPER, "conference proceeding": T.CONFERENCE_PAPER,
    "inproceedings": T.CONFERENCE_PAPER, "proceedings": T.CONFERENCE_PAPER, "congress": T.CONFERENCE_PAPER,
    "clinical conference": T.CONFERENCE_PAPER, "meeting abstract": T.CONFERENCE_PAPER,
    "book": T.BOOK, "whole book": T.BOOK, "book chapter": T.BOOK, "book section": T.BOOK, "chapter": T.BOOK,
    "edited book": T.BOOK, "electronic book": T.BOOK, "electronic book section": T.BOOK, "monograph": T.BOOK,
    "inbook": T.BOOK, "incollection": T.BOOK, "booklet": T.BOOK, "collection": T.BOOK, "mvbook": T.BOOK,
    "reference entry": T.BOOK, "entry encyclopedia": T.BOOK, "entry dictionary": T.BOOK, "encyclopedia": T.BOOK,
    "dictionary": T.BOOK, "textbook": T.BOOK,
    "report": T.REPORT, "techreport": T.REPORT, "technical report": T.REPORT, "government document": T.REPORT,
    "thesis": T.REPORT, "thesis dissertation": T.REPORT, "dissertation": T.REPORT, "phdthesis": T.REPORT,
    "mastersthesis": T.REPORT,
    "web page": T.WEB_PAGE, "webpage": T.WEB_PAGE, "online": T.WEB_PAGE, "electronic": T.WEB_PAGE, "www": T.WEB_PAGE,
    "blog": T.WEB_PAGE, "post": T.WEB_PAGE, "post weblog": T.WEB_PAGE, "internet communication": T.WEB_PAGE,
    "other": T.OTHER, "misc": T.OTHER, "generic": T.OTHER, "dataset": T.OTHER, "data file": T.OTHER,
    "published erratum": T.OTHER, "retraction of publication": T.OTHER, "clinical trial protocol": T.OTHER,
    "magazine article": T.OTHER, "article magazine": T.OTHER, "newspaper": T.OTHER, "article newspaper": T.OTHER,
    "newspaper article": T.OTHER, "patent": T.OTHER, "software": T.OTHER, "standard": T.OTHER,
    "historical article": T.OTHER, "biography": T.OTHER,
    # Facts about a record, not kinds of work: they say nothing here.
    "retracted publication": None, "research support non u s gov t": None, "research support u s gov t": None,
    "research support n i h extramural": None, "research support n i h intramural": None,
    "research support u s gov t non p h s": None, "research support u s gov t p h s": None,
    "research support american recovery and reinvestment act": None, "english abstract": None,
    "comparative study": None, "multicenter study": None, "evaluation study": None, "validation study": None,
    "clinical study": None, "introductory journal article": None, "expression of concern": None,
    "corrected and republished article": None, "duplicate publication": None, "journal issue": None,
}  # fmt: skip

# RIS type codes (TY) not named above by their label.
RIS_CODES: dict[str, PublicationType] = {
    "JOUR": T.JOURNAL_ARTICLE, "JFULL": T.JOURNAL_ARTICLE, "EJOUR": T.JOURNAL_ARTICLE, "INPR": T.JOURNAL_ARTICLE,
    "ABST": T.JOURNAL_ARTICLE, "BOOK": T.BOOK, "CHAP": T.BOOK, "EBOOK": T.BOOK, "ECHAP": T.BOOK, "EDBOOK": T.BOOK,
    "ENCYC": T.BOOK, "DICT": T.BOOK, "CONF": T.CONFERENCE_PAPER, "CPAPER": T.CONFERENCE_PAPER, "RPRT": T.REPORT,
    "THES": T.REPORT, "GOVDOC": T.REPORT, "ELEC": T.WEB_PAGE, "WEB": T.WEB_PAGE, "BLOG": T.WEB_PAGE,
    "ICOMM": T.WEB_PAGE, "UNPB": T.PREPRINT, "MANSCPT": T.PREPRINT, "NEWS": T.OTHER, "MGZN": T.OTHER,
}  # fmt: skip
# What a name means in one source only, where it differs from the general table. In CSL and Crossref,
# "article" is a preprint or working paper ("article-journal" is the journal article); in BibTeX it is
# the journal article.
SOURCE_NAMES: dict[str, dict[str, PublicationType]] = {
    "csl-json": {"article": T.PREPRINT, "manuscript": T.PREPRINT, "thesis": T.REPORT},
}

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SEPARATORS = re.compile(r"[;|\n]+")
_LABELS = {kind.label.lower(): kind for kind in PublicationType}


def _simplify(name: str) -> str:
    name = _CAMEL.sub(" ", name.strip()).lower().replace("randomized", "randomised")
    return " ".join(re.sub(r"[^\w]+", " ", name).split())


def _known(name: str, source: str | None) -> tuple[bool, PublicationType | None]:
    """Return (whether the name is known, its type); a known name may stand for no type (None)."""
    if source == "ris" and name.strip().upper() in RIS_CODES:
        return True, RIS_CODES[name.strip().upper()]
    if name.strip() in PublicationType.values:
        return True, PublicationType(name.strip())
    if name.strip().lower() in _LABELS:
        return True, _LABELS[name.strip().lower()]
    simple = _simplify(name)
    if simple in SOURCE_NAMES.get(source or "", {}):
        return True, SOURCE_NAMES[source][simple]
    if simple in NAMES:
        return True, NAMES[simple]
    if name.strip().upper() in RIS_CODES and name.strip().isupper():
        return True, RIS_CODES[name.strip().upper()]
    return False, None


def _names(values: str | Iterable | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return [value for value in values if isinstance(value, str)]


def normalise_publication_type(values: str | Iterable[str] | None, *, source: str | None = None) -> str:
    """Return the one `PublicationType` value for the types a record gives, or "" when it gives none.

    `values` is a string ("Journal Article", "Review; Journal Article", "JournalArticle,Review") or a list
    of them; `source` is the format they come from ("medline", "csl-json", "ris", "bibtex", "aggregator"),
    for the few names whose meaning depends on it. Names that are not kinds of work ("Research Support,
    N.I.H., Extramural") are skipped; a name not in the vocabulary at all counts as "other".
    """
    found: set[PublicationType] = set()
    unknown = False
    for value in _names(values):
        if not value.strip():
            continue
        known, kind = _known(value, source)
        if not known:  # several names in one string: "Review; Journal Article", "JournalArticle, Review"
            parts = [part for part in _SEPARATORS.split(value) if part.strip()]
            if len(parts) == 1:
                parts = [part for part in value.split(",") if part.strip()]
            results = [_known(part, source) for part in parts] if len(parts) > 1 else [(False, None)]
            if all(part_known for part_known, _ in results):
                found.update(part_kind for _, part_kind in results if part_kind)
                continue
            unknown = True
            found.update(part_kind for _, part_kind in results if part_kind)
            continue
        if kind:
            found.add(kind)
    if found:
        return str(min(found, key=PRIORITY.index).value)
    if unknown:
        return str(T.OTHER.value)
    # Only facts such as "Retracted Publication": PubMed lists nothing else for some journal articles.
    return str(T.JOURNAL_ARTICLE.value) if any(value.strip() for value in _names(values)) else ""
