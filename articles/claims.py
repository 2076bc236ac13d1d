"""Honesty checks on what an article claims: plain functions from text to findings.

The admin, the review desk, sign-off (through `workflow`) and `lint_articles` all call these; none
re-implements a rule. A finding never stops a save. An unresolved "blocking" finding stops sign-off
until a reviewer records why it is acceptable (a `FindingJustification`, pinned to the finding's key).

Each check reads the article's language (word lists in claim_words.py). Rules:
- red flags: phrases regulators act against (FTC Health Products Compliance Guidance, 2022), matched on
  word forms, not substrings ("secure" is not "cure"); a negated hit ("not a cure") is reported, marked
  negated, and does not block;
- evidence wording: a claim of benefit backed only by animal or lab evidence (grades E-F) must say so,
  and "shown to" / "proven" wording needs a randomised trial or better (grades A-B);
- label contradictions: an "Animal study" or "Lab study" label on a sentence about people, or a label in
  people on a sentence about mice or cells;
- FDA wording: in a topic marked "not approved by the FDA", any "FDA-approved" wording is an error;
- readability: the Flesch-Kincaid grade of the body (Spanish: the Szigriszt-Pazos ease, INFLESZ scale), its
  longest sentences, a warning above grade 8 (below 65), a blocking finding above grade 10 (below 55);
- treatment articles: the sections patients need (benefits, risks, alternatives, uncertainty, help);
- key points: the box's sentences get every check above, and a point that cites nothing must say what a cited
  sentence of the body says (most of its words found in that one sentence), or it is a finding.
"""

import hashlib
import re
from dataclasses import dataclass, field

import textstat
from textstat.textstat import textstatistics

from articles import citations, claim_words, figures
from articles.claim_words import any_phrase_pattern, phrase_pattern
from articles.models.review import EvidenceLevel
from articles.sanitize import plain_paragraphs

READABILITY_WARNING_GRADE = 8
READABILITY_BLOCKING_GRADE = 10
# Spanish: INFLESZ bands of the Szigriszt-Pazos ease, easiest first; patient text should be "bastante fácil".
INFLESZ = [(80, "muy fácil"), (65, "bastante fácil"), (55, "normal"), (40, "algo difícil"), (0, "muy difícil")]
INFLESZ_TARGET = 65
INFLESZ_BLOCKING = 55
LONGEST_SENTENCES_SHOWN = 3
NEGATION_WINDOW = 3  # words before a phrase, in its own clause, that can negate it: "is not a cure"
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_APOSTROPHES = {ord("\u2019"): "'", ord("\u2018"): "'"}
_SPANISH_TEXTSTAT = textstatistics()  # its own instance: textstat.set_lang would switch English's too
_SPANISH_TEXTSTAT.set_lang("es")

# An uncited key point is supported by a cited body sentence holding at least this share of its content words.
KEY_POINT_SUPPORT = 0.6
CONTENT_WORD_MIN_LENGTH = 3  # shorter words ("a", "in", "of") say little about what a sentence claims
UNSUPPORTED_KEY_POINT = (
    "This key point cites nothing, and no cited sentence of the body says it: the box may not hold claims the "
    "body does not support."
)
UNSUPPORTED_KEY_POINT_INSTEAD = (
    "Cite the reference that supports it, or reword it to repeat a cited sentence of the body (most of its words "
    "should be found there). If it makes no claim, a reviewer can record why it is acceptable."
)

# What a treatment article must cover, each found by words in its headings (claim_words: `sections`).
TREATMENT_SECTIONS = {
    "benefits": "Benefits: what the treatment may do",
    "risks": "Risks and side effects",
    "alternatives": "Alternatives, including no treatment",
    "uncertainty": "What is uncertain or unknown",
    "help": "Where to get more help",
}


@dataclass(frozen=True)
class Finding:
    rule: str  # red_flag, evidence_wording, label_contradiction, strong_wording, fda_wording, readability, ...
    message: str  # why it is a problem
    suggestion: str  # what to write instead
    text: str = ""  # the sentence it is about
    phrase: str = ""
    negated: bool = False
    blocking: bool = True  # blocks sign-off until a reviewer records why it is acceptable

    @property
    def key(self) -> str:
        """Return a stable identity: the rule, the phrase and the sentence's words (a justification pins to it)."""
        parts = [self.rule, self.phrase.lower(), citations.normalise_statement_text(self.text), str(self.negated)]
        payload = "\x1f".join(parts)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RedFlag:
    """A phrase and what staff read about it; `RedFlagPhrase` rows in the admin, or the shipped defaults."""

    phrase: str
    why: str
    instead: str


def plain_words(text: str) -> str:
    """Return text as the checks read it: no citation markers, no invisible characters, straight apostrophes."""
    return citations.MARKER_RE.sub(" ", text).translate(_INVISIBLE).translate(_APOSTROPHES)


def _is_negated(text: str, start: int, language: str = "en") -> bool:
    """Return True if a negation in the phrase's own clause, just before it, negates it ("is not a cure")."""
    words = claim_words.words_in(language)
    clause = words.clause_break.split(text[max(0, start - 200) : start])[-1]
    before = re.findall(r"[\w']+", clause.lower())[-NEGATION_WINDOW:]
    for index, word in enumerate(before):
        following = before[index + 1] if index + 1 < len(before) else ""
        if word in words.negations and following not in words.not_a_negation:
            return True
    return False


def red_flags(text: str, flags: list[RedFlag], *, language: str = "en") -> list[Finding]:
    """Return a finding for each red-flag phrase in `text`; a negated one ("not a cure") is marked and not blocking.

    `flags` are the phrases of the text's language (`RedFlagPhrase.language`), matched in its word forms.
    """
    findings = []
    words = plain_words(text)
    if not any_phrase_pattern(tuple(flag.phrase for flag in flags), language=language).search(words):
        return findings  # most sentences have none: one search rather than one a phrase
    for flag in flags:
        for match in phrase_pattern(flag.phrase, language=language).finditer(words):
            negated = _is_negated(words, match.start(), language)
            findings.append(
                Finding(
                    rule="red_flag",
                    message=f"“{match.group(0)}”: {flag.why}",
                    suggestion=flag.instead,
                    text=text,
                    phrase=flag.phrase,
                    negated=negated,
                    blocking=not negated,
                )
            )
    return findings


def _first(text: str, words, *, exact: bool = False, language: str = "en") -> int | None:
    """Return where the first of `words` appears in `text`, or None."""
    found = any_phrase_pattern(tuple(words), exact=exact, language=language).search(text)
    return found.start() if found else None


EVIDENCE_WORDING = "It reads as a benefit in people, but the evidence is level {level} ({kind} studies only)."
EVIDENCE_WORDING_INSTEAD = "Say where it was seen: “In {kind} studies, …”, and that it has not been shown in people."
STRONG_WORDING_MESSAGE = "“{wording}” needs a randomised trial in people or better; this is level {level}."
STRONG_WORDING_INSTEAD = (
    "Use wording that fits the evidence: “linked with” (C), “early reports suggest” (D), “in animal studies” (E), "
    "“in lab studies” (F)."
)


def evidence_wording(text: str, level: str, *, language: str = "en") -> list[Finding]:
    """Return what the wording of a graded statement claims beyond its evidence."""
    findings = []
    text, words = plain_words(text), claim_words.words_in(language)
    benefit, harm = _first(text, words.benefit, language=language), _first(text, words.harm, language=language)
    # "a risk of helping abnormal cells grow" is about harm; "reduces the risk of scarring" claims a benefit.
    claims_benefit = benefit is not None and (harm is None or benefit < harm)
    if level in ("E", "F") and claims_benefit:
        qualifiers = words.animal + words.lab + (words.expert if level == "F" else ())
        if _first(text, qualifiers, exact=True, language=language) is None:
            kind = "animal" if level == "E" else "lab"
            findings.append(
                Finding(
                    rule="evidence_wording",
                    message=EVIDENCE_WORDING.format(level=level, kind=kind),
                    suggestion=EVIDENCE_WORDING_INSTEAD.format(kind=kind),
                    text=text,
                    phrase=f"level {level}",
                )
            )
    if level in ("C", "D", "E", "F"):
        for wording in words.strong:
            match = phrase_pattern(wording, language=language).search(text)
            if match and not _is_negated(text, match.start(), language):
                findings.append(
                    Finding(
                        rule="strong_wording",
                        message=STRONG_WORDING_MESSAGE.format(wording=match.group(0), level=level),
                        suggestion=STRONG_WORDING_INSTEAD,
                        text=text,
                        phrase=wording,
                    )
                )
    return findings


# A label that contradicts its sentence: "Animal study" on a sentence about people, "Randomised trial in people"
# on a sentence about mice. Mentions in a negated or hedged clause ("not in people", "studies in people are
# lacking", "only one was done in people") say what the evidence is not, and are not contradictions (the words
# are claim_words' `people`, `hedges` and `views`).
LEVELS_NOT_IN_PEOPLE = ("E", "F")
LABEL_CONTRADICTION = (
    "The label “{label}” (level {level}) contradicts the sentence, which is about {about} (“{words}”)."
)
LABEL_NOT_IN_PEOPLE_INSTEAD = (
    "If the cited study was done in people, grade the statement again at the level of its design (A-D); "
    "if it was done in animals or cells, say so in the sentence: “In mice, …”, “In lab studies, …”."
)
LABEL_IN_PEOPLE_INSTEAD = (
    "If the cited study was done in animals or cells, grade the statement again as E or F; if it was done in "
    "people, say so in the sentence, so that patients do not read it as an animal or lab result."
)


def _unhedged(text: str, words, language: str) -> re.Match | None:
    """Return the first mention of `words` in `text` whose clause is neither negated nor hedged."""
    rules = claim_words.words_in(language)
    for word in words:
        for match in phrase_pattern(word, exact=True, language=language).finditer(text):
            before = rules.clause_break.split(text[max(0, match.start() - 200) : match.start()])[-1]
            after = rules.clause_break.split(text[match.end() : match.end() + 200])[0]
            clause = re.findall(r"[\w']+", f"{before} {after}".lower())
            if not rules.hedges.intersection(clause):
                return match
    return None


def label_contradictions(text: str, level: str, *, language: str = "en") -> list[Finding]:
    """Return a finding when a statement's evidence label says the opposite of its sentence about who was studied."""
    rules = claim_words.words_in(language)
    words = rules.human_tissue.sub(rules.cells, plain_words(text))
    people = _unhedged(words, rules.people, language)
    if level in LEVELS_NOT_IN_PEOPLE:
        if people is None or (level == "F" and _first(words, rules.views, language=language) is not None):
            return []
        about, match, instead = "people", people, LABEL_NOT_IN_PEOPLE_INSTEAD
    else:
        animals_or_lab = _unhedged(words, rules.animal + rules.lab, language)
        if people is not None or animals_or_lab is None:
            return []
        about, match, instead = "animals or cells", animals_or_lab, LABEL_IN_PEOPLE_INSTEAD
    label = EvidenceLevel(level).label
    return [
        Finding(
            rule="label_contradiction",
            message=LABEL_CONTRADICTION.format(label=label, level=level, about=about, words=match.group(0)),
            suggestion=instead,
            text=text,
            phrase=f"level {level}",
        )
    ]


def fda_wording(text: str, *, language: str = "en") -> list[Finding]:
    """Return an error for wording that says the FDA approved a treatment the topic marks as not approved."""
    findings = []
    text = plain_words(text)
    for wording in claim_words.words_in(language).fda_approval:
        match = phrase_pattern(wording, language=language).search(text)
        if match and not _is_negated(text, match.start(), language):
            findings.append(
                Finding(
                    rule="fda_wording",
                    message=f"“{match.group(0)}”: this treatment is not approved by the FDA.",
                    suggestion="Say plainly that the FDA has not approved it.",
                    text=text,
                    phrase=wording,
                )
            )
    return findings


@dataclass
class Readability:
    """The Flesch-Kincaid grade of an English body: lower is easier."""

    grade: float
    longest_sentences: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        above = " — above the grade 6 to 8 patients need" if self.grade > READABILITY_WARNING_GRADE else ""
        return f"US grade {self.grade:.1f}{above}"

    @property
    def findings(self) -> list[Finding]:
        if self.grade <= READABILITY_WARNING_GRADE:
            return []
        return [
            Finding(
                rule="readability",
                message=f"The body reads at US grade {self.grade:.1f}; patient information should be grade 6 to 8.",
                suggestion="Shorten the longest sentences and use everyday words.",
                phrase=f"grade {self.grade:.1f}",  # a justification holds for this grade, not for later edits
                blocking=self.blocking,
            )
        ]

    @property
    def blocking(self) -> bool:
        return self.grade > READABILITY_BLOCKING_GRADE


@dataclass
class SpanishReadability:
    """The Szigriszt-Pazos ease of a Spanish body (0 to 100: higher is easier), read on the INFLESZ scale
    (Barrio-Cantalejo et al., 2008), which Spanish health services use for patient information."""

    ease: float
    longest_sentences: list[str] = field(default_factory=list)

    @property
    def band(self) -> str:
        return next(name for floor, name in INFLESZ if self.ease >= floor)

    @property
    def summary(self) -> str:
        below = f" — below the {INFLESZ_TARGET} (“bastante fácil”, fairly easy) patient text needs" * self.is_hard
        return f"Szigriszt-Pazos {self.ease:.1f}, “{self.band}” on the INFLESZ scale (higher is easier){below}"

    @property
    def is_hard(self) -> bool:
        return self.ease < INFLESZ_TARGET

    @property
    def findings(self) -> list[Finding]:
        if not self.is_hard:
            return []
        return [
            Finding(
                rule="readability",
                message=f"The body scores {self.ease:.1f} on the Szigriszt-Pazos scale, “{self.band}” on INFLESZ; "
                f"patient information in Spanish should score {INFLESZ_TARGET} or more (“bastante fácil”).",
                suggestion="Shorten the longest sentences and use everyday words.",
                phrase=f"INFLESZ {self.ease:.1f}",  # a justification holds for this score, not for later edits
                blocking=self.ease < INFLESZ_BLOCKING,
            )
        ]


def _body_sentences(body_html: str, language: str) -> list[str]:
    # A figure's marker is no sentence: its caption is checked with the image, not read as prose.
    prose = figures.without_markers(body_html)
    blocks = [citations.normalise_statement_text(block) for block in plain_paragraphs(prose)]
    return [s for block in blocks for s in citations.split_sentences(block, language=language) if s.strip()]


def readability(body_html: str, *, language: str = "en") -> Readability | SpanishReadability:
    """Return the Flesch-Kincaid grade of the body (headings and list items count as sentences); of a Spanish
    body, its Szigriszt-Pazos ease."""
    sentences = _body_sentences(body_html, language)
    text = " ".join(sentences)
    longest = sorted(sentences, key=lambda s: len(s.split()), reverse=True)[:LONGEST_SENTENCES_SHOWN]
    if language == "es":
        return _spanish_readability(sentences, text, longest)
    words = textstat.lexicon_count(text)
    if not words:
        return Readability(grade=0.0)
    # Our own sentence count: textstat would split again on "e.g.", "2.5" and "et al.".
    grade = 0.39 * words / len(sentences) + 11.8 * textstat.syllable_count(text) / words - 15.59
    return Readability(grade=round(max(grade, 0.0), 1), longest_sentences=longest)


def _spanish_readability(sentences: list[str], text: str, longest: list[str]) -> SpanishReadability:
    words = _SPANISH_TEXTSTAT.lexicon_count(text)
    if not words:
        return SpanishReadability(ease=100.0)
    # Our own sentence count, as for English.
    ease = 206.835 - 62.3 * _SPANISH_TEXTSTAT.syllable_count(text) / words - words / len(sentences)
    return SpanishReadability(ease=round(min(max(ease, 0.0), 100.0), 1), longest_sentences=longest)


_HEADING = re.compile(r"<h[234][^>]*>(.*?)</h[234]>", re.IGNORECASE | re.DOTALL)


def treatment_checklist(body_html: str, *, language: str = "en") -> list[tuple[str, bool]]:
    """Return each section a treatment article needs, and whether a heading of the body covers it."""
    headings = " | ".join(re.sub(r"<[^>]+>", "", h) for h in _HEADING.findall(body_html or ""))
    sections = claim_words.words_in(language).sections
    return [
        (label, any(phrase_pattern(word, language=language).search(headings) for word in sections[name]))
        for name, label in TREATMENT_SECTIONS.items()
    ]


def missing_sections(body_html: str, *, language: str = "en") -> list[Finding]:
    """Return a warning for each section a treatment article lacks, judged by its headings."""
    return [
        Finding(
            rule="missing_section",
            message=f"Treatment articles need a section on: {label}.",
            suggestion=f"Add a heading and a short section: {label}.",
            phrase=name,
            blocking=False,
        )
        for name, (label, present) in zip(
            TREATMENT_SECTIONS, treatment_checklist(body_html, language=language), strict=True
        )
        if not present
    ]


def content_words(text: str, *, language: str = "en") -> set[str]:
    """Return the words of `text` that carry its meaning, lower-case and without a plural "s"."""
    words = re.findall(r"[^\W_]+", plain_words(text).lower())
    common = claim_words.words_in(language).common
    return {
        word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
        for word in words
        if len(word) >= CONTENT_WORD_MIN_LENGTH and word not in common
    }


def is_supported(point: str, cited_sentences: list[str], *, language: str = "en") -> bool:
    """Return True if one of `cited_sentences` holds at least KEY_POINT_SUPPORT of the point's content words."""
    words = content_words(point, language=language)
    if not words:
        return True  # nothing is claimed ("Yes.")
    return any(
        len(words & content_words(sentence, language=language)) >= KEY_POINT_SUPPORT * len(words)
        for sentence in cited_sentences
    )


def unsupported_key_points(key_points_html: str, body_html: str, *, language: str = "en") -> list[Finding]:
    """Return a finding for each key point sentence that cites nothing and repeats no cited body sentence."""
    points = [s for s in citations.sentences(key_points_html, language=language) if not s.is_statement]
    if not points:
        return []
    cited = [sentence.text for sentence in citations.statements(body_html, language=language)]
    return [
        Finding(
            rule="unsupported_key_point",
            message=UNSUPPORTED_KEY_POINT,
            suggestion=UNSUPPORTED_KEY_POINT_INSTEAD,
            text=point.text,
            phrase="key point",
        )
        for point in points
        if not is_supported(point.text, cited, language=language)
    ]


def check_article(
    *,
    title: str,
    summary: str,
    body_html: str,
    flags: list[RedFlag],
    levels: dict[str, str],
    not_fda_approved: bool = False,
    treatment: bool = False,
    body_readability: Readability | SpanishReadability | None = None,
    key_points_html: str = "",
    language: str = "en",
) -> list[Finding]:
    """Return every finding for an article's patient-visible text, each once, checked in its `language`.

    `levels` maps statement hashes to their approved evidence levels (the evidence rules need a grade); `flags`
    are the red-flag phrases of the article's language.
    """
    sentences = [citations.Sentence(text) for text in (title, summary) if text]
    sentences += citations.sentences(key_points_html, language=language)
    sentences += citations.sentences(body_html, language=language)
    findings: dict[str, Finding] = {}
    for sentence in sentences:
        found = red_flags(sentence.text, flags, language=language)
        if not_fda_approved:
            found += fda_wording(sentence.text, language=language)
        if sentence.hash in levels:
            found += evidence_wording(sentence.text, levels[sentence.hash], language=language)
            found += label_contradictions(sentence.text, levels[sentence.hash], language=language)
        for finding in found:
            findings.setdefault(finding.key, finding)
    for finding in unsupported_key_points(key_points_html, body_html, language=language):
        findings.setdefault(finding.key, finding)
    found = (body_readability or readability(body_html, language=language)).findings
    return [*findings.values(), *found, *(missing_sections(body_html, language=language) if treatment else [])]
