"""What the evidence labels mean, in plain words: the legend every inline label links to."""

from dataclasses import dataclass

from articles.models import EvidenceLevel

LEGEND_ID = "evidence-labels"
LEGEND_HEADING = "What the evidence labels mean"
LEGEND_INTRO = (
    "Each claim that cites research carries a label. It says what kind of study backs the claim, as judged by "
    "the clinician who reviewed it. The labels go from the strongest kind of evidence to the weakest."
)
# The rule `rendering._labels` follows, said to patients.
ONE_LABEL_FOR_A_RUN = (
    "When sentences next to each other in the same paragraph or list item are backed by the same kind of study, "
    "the label is shown once, after the last of them."
)
# Per level: what the study is, what it can show, what it cannot.
MEANINGS = {
    "A": (
        "Researchers gathered several fair tests of the treatment in people and looked at them together.",
        "This is the strongest evidence that a treatment helps or harms.",
        "It is only as good as the trials in it: small or badly run trials make it weaker.",
    ),
    "B": (
        "People were put into groups by chance. One group got the treatment and the other did not.",
        "It is a fair way to test whether the treatment itself made the difference.",
        "One trial can still be wrong by chance, and may not fit people unlike those in it.",
    ),
    "C": (
        "Researchers followed people who did or did not use the treatment, without choosing who got it.",
        "It can show that a treatment and a result go together.",
        "It cannot show that the treatment caused the result: the groups may differ in other ways.",
    ),
    "D": (
        "A small number of people tried the treatment and were checked before and after, with no one to compare.",
        "It can show what happened to those people, and whether a bigger study is worth doing.",
        "It cannot show that the treatment caused the change: people can improve for other reasons.",
    ),
    "E": (
        "The treatment was tested in animals, such as mice or rats.",
        "It can show ideas worth testing in people.",
        "It does not show that the treatment works, or is safe, in people. Many results in animals do not carry over.",
    ),
    "F": (
        "Cells were tested in a lab dish, or experts gave their view without a study of their own.",
        "It can explain how a treatment might work, and point to questions for research.",
        "It does not show that the treatment works, or is safe, in people.",
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
    return [LegendEntry(level.value, level.label, *MEANINGS[level.value]) for level in EvidenceLevel]
