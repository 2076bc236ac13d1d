"""What the evidence labels mean, in plain words: the legend every inline label links to.

The words are English here, marked for the Spanish catalogue, and translated where they are shown (`entries`, the
`evidence_legend` tag) into the language active there. Kept as plain strings, so tests and code can compare them.
"""

from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop

from articles.models import EvidenceLevel

LEGEND_ID = "evidence-labels"
LEGEND_HEADING = gettext_noop("What the evidence labels mean")
LEGEND_INTRO = gettext_noop(
    "Each claim that cites research carries a label. It says what kind of study backs the claim, as judged by "
    "the clinician who reviewed it. The labels go from the strongest kind of evidence to the weakest."
)
# The rule `rendering._labels` follows, said to patients.
ONE_LABEL_FOR_A_RUN = gettext_noop(
    "When sentences next to each other in the same paragraph or list item are backed by the same kind of study, "
    "the label is shown once, after the last of them."
)
# Per level: what the study is, what it can show, what it cannot.
MEANINGS = {
    "A": (
        gettext_noop("Researchers gathered several fair tests of the treatment in people and looked at them together."),
        gettext_noop("This is the strongest evidence that a treatment helps or harms."),
        gettext_noop("It is only as good as the trials in it: small or badly run trials make it weaker."),
    ),
    "B": (
        gettext_noop("People were put into groups by chance. One group got the treatment and the other did not."),
        gettext_noop("It is a fair way to test whether the treatment itself made the difference."),
        gettext_noop("One trial can still be wrong by chance, and may not fit people unlike those in it."),
    ),
    "C": (
        gettext_noop("Researchers followed people who did or did not use the treatment, without choosing who got it."),
        gettext_noop("It can show that a treatment and a result go together."),
        gettext_noop("It cannot show that the treatment caused the result: the groups may differ in other ways."),
    ),
    "D": (
        gettext_noop(
            "A small number of people tried the treatment and were checked before and after, with no one to compare."
        ),
        gettext_noop("It can show what happened to those people, and whether a bigger study is worth doing."),
        gettext_noop("It cannot show that the treatment caused the change: people can improve for other reasons."),
    ),
    "E": (
        gettext_noop("The treatment was tested in animals, such as mice or rats."),
        gettext_noop("It can show ideas worth testing in people."),
        gettext_noop(
            "It does not show that the treatment works, or is safe, in people. "
            "Many results in animals do not carry over."
        ),
    ),
    "F": (
        gettext_noop("Cells were tested in a lab dish, or experts gave their view without a study of their own."),
        gettext_noop("It can explain how a treatment might work, and point to questions for research."),
        gettext_noop("It does not show that the treatment works, or is safe, in people."),
    ),
}


@dataclass(frozen=True)
class LegendEntry:
    level: str
    label: str
    what: str
    can_show: str
    cannot_show: str

    @property
    def css_class(self) -> str:
        return f"evidence-{self.level.lower()}"


def entries() -> list[LegendEntry]:
    """Return every evidence level with its label and plain-language meaning, strongest first."""
    return [
        LegendEntry(level.value, gettext(level.label), *map(gettext, MEANINGS[level.value])) for level in EvidenceLevel
    ]
