"""Where sentences end, by language: the abbreviations whose full stop ends none (citations.split_sentences).

Statements are split with their article's language's rules; English's are the default, and unchanged, so no
English statement's hash moves.
"""

import re
from dataclasses import dataclass

# Words that end in a full stop without ending the sentence (compared lower-case, without the stop).
ABBREVIATIONS = frozenset(
    {
        "al", "e.g", "i.e", "eg", "ie", "vs", "dr", "drs", "mr", "mrs", "ms", "prof", "approx", "ca", "cf",
        "st", "jr", "sr", "inc", "ltd", "ed", "eds", "dept", "univ", "u.s", "u.k",
    }
)  # fmt: skip
# Abbreviations that only ever come before a number ("Fig. 2", "No. 5", "p. 33"): elsewhere "no." ends a sentence.
NUMBERED_ABBREVIATIONS = frozenset({"fig", "figs", "no", "nos", "vol", "p", "pp", "v", "ref", "refs"})
# Spanish: "p. ej.", "Dra.", "EE. UU.", "núm. 3". Not "etc.": before a capital it ends its sentence, and before a
# small letter no stop does. An ordinal ("1.º") has no space after its stop, so it never ends one.
SPANISH_ABBREVIATIONS = frozenset(
    {
        "al", "ej", "aprox", "dr", "dra", "dres", "sr", "sra", "srta", "sres", "prof", "profa", "lic", "ud", "uds",
        "ee", "uu", "ee.uu", "ca", "cf", "vs", "i.e", "e.g",
    }
)  # fmt: skip
SPANISH_NUMBERED_ABBREVIATIONS = frozenset(
    {"núm", "n", "pág", "págs", "vol", "fig", "figs", "cap", "caps", "p", "pp", "ref", "refs", "art"}
)
SENTENCE_END = re.compile("[.!?]+[\"'\u201d\u2019)\\]]*(?=\\s|\ue000)")


@dataclass(frozen=True)
class SentenceRules:
    """How a language's prose marks where sentences end."""

    abbreviations: frozenset[str]
    numbered_abbreviations: frozenset[str]
    end: re.Pattern = SENTENCE_END
    openers: str = ""  # what may come before a sentence's first letter: "¿Funciona?", "«No»"


SENTENCE_RULES = {
    "en": SentenceRules(ABBREVIATIONS, NUMBERED_ABBREVIATIONS),
    "es": SentenceRules(
        SPANISH_ABBREVIATIONS,
        SPANISH_NUMBERED_ABBREVIATIONS,
        end=re.compile("[.!?]+[\"'\u201d\u2019\u00bb)\\]]*(?=\\s|\ue000)"),  # and after a closing »
        openers="\u00bf\u00a1\u00ab\"'\u201c(",  # ¿ ¡ « " ' “ (
    ),
}


def sentence_rules(language: str) -> SentenceRules:
    """Return how sentences end in `language` (English's for a language without rules of its own)."""
    return SENTENCE_RULES.get(language, SENTENCE_RULES["en"])
