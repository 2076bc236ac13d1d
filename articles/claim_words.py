"""The words the claim checks (claims.py) look for, one set per language.

Each language gets its own lists, so a Spanish article is checked as closely as an English one and is never
flagged for lacking English words. The checks match them in any word form (`phrase_pattern`); those marked
"exact" only as written and in the plural.
"""

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimWords:
    negations: frozenset[str]  # words before a phrase, in its own clause, that can negate it: "is not a cure"
    not_a_negation: frozenset[str]  # "it not only cures ..." still claims a cure
    clause_break: re.Pattern
    benefit: tuple[str, ...]  # a claim of benefit
    harm: tuple[str, ...]
    animal: tuple[str, ...]  # exact: "rat" must not match "rates"
    lab: tuple[str, ...]  # exact
    expert: tuple[str, ...]  # exact
    strong: tuple[str, ...]  # wording that needs a randomised trial in people or better
    fda_approval: tuple[str, ...]
    people: tuple[str, ...]  # exact
    human_tissue: re.Pattern  # "human skin cells" are cells in a dish, not people
    cells: str  # what human tissue is read as
    hedges: frozenset[str]  # a clause with one of these says what the evidence is not: "studies in people are lacking"
    views: tuple[str, ...]  # level F includes an expert's view about people
    sections: dict[str, tuple[str, ...]]  # words in headings that cover each section a treatment article needs
    common: frozenset[str]  # words that say little about what a sentence claims


ENGLISH_NEGATIONS = frozenset(
    {
        "not", "no", "never", "nor", "without", "cannot", "isn't", "aren't", "wasn't", "weren't", "doesn't",
        "don't", "didn't", "won't", "can't", "hasn't", "haven't",
    }
)  # fmt: skip
ENGLISH = ClaimWords(
    negations=ENGLISH_NEGATIONS,
    not_a_negation=frozenset({"only", "just", "merely"}),
    clause_break=re.compile(r"[,;:()\u2013\u2014]|\bbut\b|\band\b", re.IGNORECASE),
    benefit=(
        "help", "improve", "lower", "heal", "reduce", "increase", "boost", "work", "treat", "cure", "reverse",
        "restore", "regrow", "repair", "rejuvenate", "prevent", "protect", "stimulate", "promote", "enhance",
        "thicken", "tighten", "smooth", "erase", "eliminate", "benefit", "effective", "younger", "faster", "fewer",
        "thicker",
    ),
    harm=("risk", "harm", "concern", "danger", "side effect", "infection", "unwanted", "warn"),
    animal=("animal", "mouse", "mice", "rat", "rodent", "rabbit", "pig", "dog", "monkey", "primate", "zebrafish"),
    lab=("lab", "laboratory", "dish", "in vitro", "test tube", "preclinical", "cell culture", "cells grown"),
    expert=("expert", "review", "reviewer", "opinion", "theory"),
    strong=("shown to", "proven", "proves", "demonstrated", "established"),
    fda_approval=("FDA-approved", "FDA-cleared", "FDA-registered", "approved by the FDA", "cleared by the FDA"),
    people=(
        "people", "person", "patient", "participant", "human", "adult", "child", "children", "men", "women", "man",
        "woman", "volunteer", "clinical trial", "clinical study", "clinical studies",
    ),
    human_tissue=re.compile(
        r"\bhuman\s+(?:[\w-]+\s+)?(?:cells?|tissues?|samples?|skin|blood|organoids?)\b", re.IGNORECASE
    ),
    cells="cells",
    hedges=ENGLISH_NEGATIONS
    | {"lacking", "lack", "lacks", "needed", "few", "whether", "unknown", "until", "yet", "only", "if"},
    views=("expert", "opinion", "consensus", "guideline"),
    sections={
        "benefits": ("benefit", "research shows", "studies show", "what it can"),
        "risks": ("risk", "side effect", "safety", "harm", "danger"),
        "alternatives": ("alternative", "other option", "other treatment"),
        "uncertainty": ("unknown", "uncertain", "not yet know", "open question"),
        "help": ("get help", "more help", "question", "talk to", "ask your", "contact", "support"),
    },
    common=frozenset(
        {
            "the", "and", "are", "was", "were", "for", "with", "that", "this", "these", "those", "from", "has",
            "have", "had", "been", "but", "not", "can", "may", "might", "will", "would", "could", "should", "you",
            "your", "they", "them", "their", "its", "our", "who", "what", "which", "when", "how", "why", "than",
            "then", "also", "any", "all", "some", "more", "most", "such", "into", "about", "over", "only", "very",
            "does", "did", "there",
        }
    ),
)  # fmt: skip

SPANISH_NEGATIONS = frozenset(
    {"no", "ni", "nunca", "jamás", "sin", "ningún", "ninguno", "ninguna", "ningunos", "ningunas", "tampoco", "nadie"}
)
SPANISH = ClaimWords(
    negations=SPANISH_NEGATIONS,
    not_a_negation=frozenset({"solo", "sólo", "solamente", "únicamente"}),  # "no solo cura ..." claims a cure
    clause_break=re.compile(r"[,;:()\u2013\u2014]|\bpero\b|\bsino\b|\baunque\b|\by\b|\be\b", re.IGNORECASE),
    benefit=(
        "ayuda", "mejora", "reduce", "disminuye", "aumenta", "potencia", "funciona", "cura", "revierte", "restaura",
        "regenera", "repara", "rejuvenece", "previene", "protege", "estimula", "favorece", "promueve", "acelera",
        "engrosa", "reafirma", "suaviza", "borra", "elimina",
        "beneficio", "eficaz", "efectivo", "más joven", "más rápido", "menos arrugas",
    ),
    harm=(
        "riesgo", "daño", "preocupación", "peligro", "efecto secundario", "efecto adverso", "infección",
        "no deseado", "advierte", "advertencia",
    ),
    animal=(
        "animal", "ratón", "ratones", "rata", "roedor", "conejo", "cerdo", "perro", "mono", "primate", "pez cebra",
    ),
    lab=(
        "laboratorio", "placa de Petri", "in vitro", "tubo de ensayo", "preclínico", "preclínica", "cultivo celular",
        "células cultivadas",
    ),
    expert=("experto", "experta", "revisión", "revisor", "opinión", "teoría"),
    strong=("demuestra", "demostrado", "prueba que", "probado", "comprobado", "establecido"),
    fda_approval=(
        "aprobado por la FDA", "autorizado por la FDA", "registrado en la FDA", "aprobación de la FDA",
        "FDA-approved",
    ),
    people=(
        "personas", "persona", "gente", "paciente", "participante", "humano", "humana", "adulto", "adulta", "niño",
        "niña", "hombre", "mujer", "voluntario", "voluntaria", "ensayo clínico", "estudio clínico",
    ),
    human_tissue=re.compile(
        r"\b(?:células?|tejidos?|muestras?|piel|sangre|organoides?)\s+(?:(?:de\s+)?[\w-]+\s+)?human[oa]s?\b",
        re.IGNORECASE,
    ),
    cells="células",
    hedges=SPANISH_NEGATIONS
    | {"falta", "faltan", "necesita", "necesitan", "pocos", "pocas", "si", "desconoce", "hasta", "todavía", "aún"},
    views=("experto", "opinión", "consenso", "guía"),
    sections={
        "benefits": ("beneficio", "la investigación muestra", "los estudios muestran", "qué puede", "lo que puede"),
        "risks": ("riesgo", "efecto secundario", "efecto adverso", "seguridad", "daño", "peligro"),
        "alternatives": ("alternativa", "otra opción", "otro tratamiento"),
        "uncertainty": ("desconoce", "desconocido", "incierto", "incertidumbre", "no se sabe", "pregunta abierta"),
        "help": ("ayuda", "pregunta", "hable con", "consulte", "contacto", "apoyo"),
    },
    common=frozenset(
        {
            "los", "las", "del", "que", "por", "para", "con", "una", "uno", "unos", "unas", "como", "más", "pero",
            "sus", "este", "esta", "estos", "estas", "ese", "esa", "eso", "son", "está", "están", "fue", "fueron",
            "ser", "han", "hay", "sin", "sobre", "entre", "también", "puede", "pueden", "muy", "cuando", "donde",
            "qué", "cómo", "porque", "todo", "todos", "algunos", "algunas", "ellos", "ellas", "usted", "nos",
            "les", "solo", "sólo", "desde", "otro", "otros", "tiene", "tienen", "ha", "al", "se", "su",
        }
    ),
)  # fmt: skip

PERCENT = {"en": r"\s?(?:%|percent)", "es": r"\s?(?:%|por\s+ciento)"}
# Spanish words in the forms a claim takes: number and gender (milagro, milagrosa, milagros), the verb
# (cura, curan, curar, curado, curó, curando), the noun and adjective made from it (curación, curativo).
SPANISH_ENDINGS = (
    "o", "a", "os", "as", "e", "es", "oso", "osa", "osos", "osas", "ar", "er", "ir", "an", "en", "amos", "emos",
    "imos", "ó", "ió", "aron", "ieron", "ará", "erá", "irá", "arán", "erán", "irán", "aba", "aban", "ía", "ían",
    "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "ando", "iendo", "ación", "aciones", "ativo",
    "ativa", "ativos", "ativas", "amente", "emente",
)  # fmt: skip
_SPANISH_ENDING = re.compile(r"(?:[ai]d[oa]s?|[aeo]s?|ar|er|ir)$")
# Writers leave accents off ("clinicamente"); a vowel matches itself with or without one.
_ACCENTED = {vowel: f"[{forms}]" for forms in ("aá", "eé", "ií", "oó", "uúü") for vowel in forms}
SPANISH_AS_WRITTEN = 3  # words this short are matched as written: "por", "la", "sin", "FDA"


def spanish_word_forms(word: str, *, exact: bool) -> str:
    """Return a regex for a Spanish word in the forms of SPANISH_ENDINGS (`exact`: and its plural), any accents."""
    plural = word[:-1] + "ces" if word.endswith("z") else word + ("s" if word[-1] in "aeiouáéó" else "es")
    stem = _SPANISH_ENDING.sub("", word)
    if len(word) <= SPANISH_AS_WRITTEN:
        forms = {word}
    elif exact:
        forms = {word, plural}
    elif stem == word:  # "natural": naturales, naturalmente
        forms = {word, plural, word + "mente"}
    else:
        forms = {word, plural, *(stem + ending for ending in SPANISH_ENDINGS)}
    spelled = ["".join(_ACCENTED.get(ch, re.escape(ch)) for ch in form) for form in forms]
    return "(?:" + "|".join(sorted(spelled, key=len, reverse=True)) + ")"


_WORD_GAP = r"[\s\-\u2010-\u2015]+"  # spaces, hyphens and the dashes that look like them


def _word_forms(word: str, *, exact: bool = False, language: str = "en") -> str:
    """Return a regex for a word and its common inflections: cure, cures, cured, curing; permanent(ly)."""
    word = word.lower()
    if word.endswith("%"):
        return re.escape(word[:-1]) + PERCENT.get(language, PERCENT["en"])
    if not word.isalpha():
        return re.escape(word)
    if language == "es":
        return spanish_word_forms(word, exact=exact)
    forms = {word, word + "es" if word.endswith(("s", "sh", "ch", "x")) else word + "s"}
    if not exact:
        forms.add(word + "es")
        stem = word[:-1] if word.endswith("e") else word
        forms |= {stem + "ed", stem + "ing", word + "d", word + "ly"}
        if word.endswith("y"):
            forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    return "(?:" + "|".join(sorted(map(re.escape, forms), key=len, reverse=True)) + ")"


@functools.lru_cache(maxsize=1024)
def phrase_pattern(phrase: str, *, exact: bool = False, language: str = "en") -> re.Pattern:
    """Return a pattern for a phrase in any word form, case, hyphenation or dash: "FDA-approved", "FDA approved"."""
    words = [w for w in re.split(r"[\s\-\u2010-\u2015]+", phrase.strip()) if w]
    if not words:
        return re.compile(r"(?!)")  # a phrase of only spaces or dashes matches nothing, not every word gap
    body = _WORD_GAP.join(_word_forms(w, exact=exact, language=language) for w in words)
    return re.compile(rf"(?<![\w%]){body}(?![\w%])", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def any_phrase_pattern(phrases: tuple[str, ...], *, exact: bool = False, language: str = "en") -> re.Pattern:
    """Return one pattern for all of `phrases`: its first match starts where the earliest of theirs does (a scan
    tries every phrase at each place before moving on), so one search tells whether, and where, any appears."""
    patterns = (phrase_pattern(phrase, exact=exact, language=language).pattern for phrase in phrases)
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns) or r"(?!)", re.IGNORECASE)


BY_LANGUAGE = {"en": ENGLISH, "es": SPANISH}


def words_in(language: str) -> ClaimWords:
    """Return the words the checks read in `language` (English's for a language without its own)."""
    return BY_LANGUAGE.get(language, ENGLISH)
