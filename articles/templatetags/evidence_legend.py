"""`{% evidence_legend_entries as entries %}`: the legend of the evidence labels, for any template."""

from django import template
from django.utils.translation import gettext

from articles import evidence_legend

register = template.Library()


@register.simple_tag
def evidence_legend_entries() -> dict:
    """Return the legend's id, heading, words and one entry per evidence level, in the active language."""
    return {
        "id": evidence_legend.LEGEND_ID,
        "heading": gettext(evidence_legend.LEGEND_HEADING),
        "intro": gettext(evidence_legend.LEGEND_INTRO),
        "run_rule": gettext(evidence_legend.ONE_LABEL_FOR_A_RUN),
        "entries": evidence_legend.entries(),
    }
