"""Author names as exports write them, split into what a Reference stores.

Exports write a person's name in four ways: "Mahmoud, Rami H" (inverted: RIS, MEDLINE FAU, BibTeX),
"Mahmoud RH" (Vancouver: PubMed AU, aggregators, most reference lists), "Rami H Mahmoud" and
"R. H. Mahmoud" (display order: aggregators). `split_name` tells them apart and returns the
{"family", "given"} (and "suffix") a Reference stores, or {"literal": ...} for an organisation.
"""

import re
import unicodedata

from articles.importers.field_values import field_text

NAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "le", "la", "dos", "das", "ten", "ter",
     "dei", "des", "do", "vom", "zu", "zum", "zur", "al", "el", "bin", "ibn"}
)  # fmt: skip
# Particles also written with a capital ("Jan Van der Berg", "Ahmed Al Hassan"), taken as part of the
# family name only when a given name stays before them ("Di Wu" is given name Di, family name Wu).
CAPITALISED_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "della", "dos", "das", "ter", "ten", "al"})
NAME_SUFFIXES = {"jr": "Jr", "jnr": "Jr", "sr": "Sr", "snr": "Sr", "ii": "II", "iii": "III", "iv": "IV",
                 "2nd": "2nd", "3rd": "3rd", "4th": "4th"}  # fmt: skip
ROMAN_SUFFIXES = frozenset({"II", "III", "IV"})
# Words that make a name a group's: "WHO Collaborative Group", "Society for ...", "Food and Drug Administration".
GROUP_WORDS = frozenset(
    {"group", "groups", "collaborative", "collaboration", "collaborators", "collaborating", "consortium",
     "committee", "commission", "organization", "organisation", "organizations", "organisations", "society",
     "association", "investigators", "council", "institute", "institutes", "network", "foundation", "team",
     "taskforce", "task", "force", "panel", "board", "agency", "centre", "center", "centers", "centres",
     "department", "university", "college", "academy", "trialists", "federation", "alliance", "coalition",
     "authority", "ministry", "administration", "services", "programme", "program", "registry", "office",
     "working", "writing", "steering", "study", "trial", "project", "initiative", "collective", "union",
     "partnership", "hospital", "clinic", "inc", "ltd", "llc", "gmbh", "corporation", "company", "editors",
     "staff", "authors", "anonymous", "unknown", "who", "nice", "cdc", "fda", "nih", "nhs", "ema", "unicef"}
)  # fmt: skip
LINKING_WORDS = frozenset({"of", "for", "on", "the", "and", "&", "in", "against", "to", "at", "with"})
CJK_NAME_PREFIXES = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")

_ET_AL = re.compile(r"(?:and\s+)?(?:et\.?\s*al\.?|others)", re.I)
_AND = re.compile(r"\s+(?:and|&)\s+")


def split_name(name: str, *, organisations: bool = True) -> dict[str, str] | None:
    """Return one author as stored: {"family", "given"[, "suffix"]}, or {"literal"} for a group; None if empty.

    "Mahmoud RH", "Mahmoud, Rami H", "Rami H Mahmoud" and "R. H. Mahmoud" all give family "Mahmoud";
    particles stay with the family name ("van der Berg J", "Jan van der Berg", "de la Cruz, María"),
    suffixes are kept apart ("Smith JA Jr", "Smith, John A, III"), organisations ("WHO Collaborative
    Group") are literal, and so are names in scripts written without initials (Chinese, Japanese, Korean).
    With `organisations=False` a name is never taken for a group (for sources that mark groups themselves).
    """
    name = " ".join(field_text(name).replace("\u00a0", " ").split()).strip(" ,;")
    if not name or _ET_AL.fullmatch(name):
        return None
    if "," in name:
        return _split_inverted(name)
    words = name.split()
    if is_vancouver(words):
        return _split_vancouver(words)
    if organisations and is_organisation(name):
        return {"literal": name}
    if _written_without_initials(name):
        return {"literal": name}
    return _split_display(words)


def is_organisation(name: str) -> bool:
    """Return True if a name is a group's rather than a person's ("WHO Collaborative Group", "GBD 2019 ...")."""
    words = [word.strip(".,;:()&'’").casefold() for word in name.split()]
    words = [word for word in words if word]
    return (
        any(word in GROUP_WORDS or word in LINKING_WORDS for word in words)
        or any(char.isdigit() for char in name)
        or (len(words) == 1 and len(name) > 1 and name.isupper())  # "WHO", "UNICEF"
    )


def _split_inverted(name: str) -> dict[str, str]:
    """Split "Family, Given", "Family, Given, Jr" or BibTeX's "Family, Jr, Given"."""
    parts = [part.strip() for part in name.split(",")]
    family, rest = parts[0], [part for part in parts[1:] if part]
    suffix = ""
    if len(rest) >= 2 and name_suffix(rest[0]):
        suffix, rest = name_suffix(rest[0]), rest[1:]
    elif rest and name_suffix(rest[-1]):
        suffix, rest = name_suffix(rest[-1]), rest[:-1]
    given_words = " ".join(rest).split()
    if not suffix and len(given_words) > 1 and name_suffix(given_words[-1]):
        suffix, given_words = name_suffix(given_words[-1]), given_words[:-1]
    if not family:
        return _split_display(given_words) if given_words else None
    return person_name(family, expand_initials(given_words, family), suffix)


def is_vancouver(words: list[str]) -> bool:
    """Return True for "Mahmoud RH", "van der Berg J", "Smith JA Jr", "Иванов ИИ": family name, then initials."""
    words = without_suffix(words)[0]
    initials = _trailing_initials(words)
    family = words[: len(words) - initials]
    return (
        initials > 0
        and bool(family)
        and (not is_initials(family[-1]) or _all_capitals(words))  # "LEE JA" in a record written in capitals
        and len(family) <= 4
        and not any(word.casefold() in LINKING_WORDS for word in family)
        and not any(char.isdigit() for char in " ".join(family))
    )


def _split_vancouver(words: list[str]) -> dict[str, str]:
    words, suffix = without_suffix(words)
    initials = _trailing_initials(words)
    family = " ".join(words[: len(words) - initials])
    return person_name(family, " ".join(_spaced_initials(word) for word in words[len(words) - initials :]), suffix)


def _split_display(words: list[str]) -> dict[str, str]:
    """Split "Rami H Mahmoud" / "R. H. Mahmoud" / "Jan van der Berg" / "John A Smith Jr" (given names first)."""
    words, suffix = without_suffix(words)
    start = len(words) - 1
    while start > 0 and _is_particle(words[start - 1]):
        start -= 1
    capitals = _all_capitals(words)
    given = " ".join(_spaced_initials(word) if is_initials(word) and not capitals else word for word in words[:start])
    return person_name(" ".join(words[start:]), given, suffix)


def person_name(family: str, given: str, suffix: str = "") -> dict[str, str]:
    family, given = family.strip(), given.strip()
    if _written_without_initials(family + given):  # "山田" "太郎": kept whole, family name first
        return {"literal": family + given}
    author = {"family": family, "given": given}
    if suffix:
        author["suffix"] = suffix
    return author


def _all_capitals(words: list[str]) -> bool:
    return len(words) > 1 and all(word.isupper() for word in words)


def is_initials(word: str) -> bool:
    """Return True for "RH", "R.", "R.H.", "J-P", "ИИ": one to three capital letters, with dots or hyphens."""
    letters = word.replace(".", "").replace("-", "")
    return 1 <= len(letters) <= 3 and letters.isalpha() and letters.isupper() and "--" not in word


def _trailing_initials(words: list[str]) -> int:
    count = 0
    while count < len(words) - 1 and is_initials(words[len(words) - 1 - count]):
        count += 1
    return count


def _spaced_initials(word: str) -> str:
    """Return "RH" as "R H" (so AMA reads two initials); "R.H.", "J-P" and "R" stay as written."""
    if "." in word or "-" in word or len(word) == 1:
        return word
    return " ".join(word)


def expand_initials(given_words: list[str], family: str) -> str:
    """Return the given names, compact initials spaced ("Mahmoud, RH"), unless the whole name is in capitals."""
    if family.isupper():
        return " ".join(given_words)
    return " ".join(_spaced_initials(word) if is_initials(word) else word for word in given_words)


def name_suffix(word: str) -> str:
    return NAME_SUFFIXES.get(word.strip().rstrip(".").casefold(), "")


def without_suffix(words: list[str]) -> tuple[list[str], str]:
    """Return the words without a trailing suffix ("Jr", "III"), and the suffix."""
    if len(words) < 2 or not name_suffix(words[-1]):
        return words, ""
    suffix = name_suffix(words[-1])
    # "II" and "III" are also initials ("Ivanov II"): a suffix only when a name and its initials remain.
    if suffix in ROMAN_SUFFIXES and len(words) < 3:
        return words, ""
    return words[:-1], suffix


def _is_particle(word: str) -> bool:
    return word in NAME_PARTICLES or (word.casefold() in CAPITALISED_PARTICLES and word[:1].isupper())


def _written_without_initials(name: str) -> bool:
    """Return True for Chinese, Japanese and Korean names: AMA initials mean nothing in those scripts."""
    return any(unicodedata.name(char, "").startswith(CJK_NAME_PREFIXES) for char in name if char.isalpha())


def name_strings(value: str) -> list[str]:
    """Split a string of several names: "Mahmoud RH, Badiavas EV", "Mahmoud, R. H.; Badiavas, E. V.",
    "Rami H Mahmoud and Erik Peterson", "Mahmoud, R.H., Badiavas, E.V." (inverted names, comma-separated)."""
    if ";" in value:
        return [name for name in value.split(";") if name.strip()]
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if (
        len(parts) >= 2
        and len(parts) % 2 == 0
        and all(
            all(is_initials(word) for word in given.split()) and not is_vancouver(family.split())
            for family, given in zip(parts[::2], parts[1::2], strict=True)
        )
    ):
        return [f"{family}, {given}" for family, given in zip(parts[::2], parts[1::2], strict=True)]
    names = []
    for part in parts:
        pieces = _AND.split(part)  # "Rami H Mahmoud and Erik Peterson", not "Food and Drug Administration"
        if len(pieces) > 1 and all("literal" not in (split_name(piece) or {"literal": ""}) for piece in pieces):
            names.extend(pieces)
        else:
            names.append(part)
    return names
