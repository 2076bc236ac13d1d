"""`{% page_languages as versions %}`: this page in the other languages, for the language switcher and hreflang.

An article page names its live translations (or its live source); the site's lists, topic, search and bio pages
exist in every language at the same address under the language's prefix; any other page (a policy page, a 404)
has no counterpart, and the switcher leads to the other language's home page instead.
"""

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.utils import translation

from articles import languages, translations

register = template.Library()

# The public pages every language has, by URL name: the same arguments give the same page in another language.
IN_EVERY_LANGUAGE = {"home", "article_list", "topic_detail", "staff_bio", "search", "correction_list"}


@dataclass(frozen=True)
class PageLanguages:
    switch: list[translations.Counterpart]  # where the switcher leads, one link per other language (paths)
    alternates: list[translations.Counterpart]  # hreflang links, absolute (this page included), or none

    @property
    def x_default(self) -> str:
        """The version for readers of any other language: the default language's."""
        return next((version.url for version in self.alternates if version.language == settings.LANGUAGE_CODE), "")


def _version(language: str, url: str) -> translations.Counterpart:
    return translations.Counterpart(language, languages.NATIVE_NAMES[language], url)


def _absolute(version: translations.Counterpart) -> translations.Counterpart:
    return translations.Counterpart(version.language, version.name, settings.SITE_URL + version.url)


@register.simple_tag(takes_context=True)
def page_languages(context) -> PageLanguages:
    here = translation.get_language()
    others = [code for code in languages.NAMES if code != here]
    request, article = context.get("request"), context.get("article")
    if context.get("preview"):
        return PageLanguages([], [])
    if article is not None and context.get("snapshot") is not None:
        same = [_version(c.language, c.url) for c in translations.counterparts(article)]
        own = _version(here, context["snapshot"].get_absolute_url())
    elif (match := getattr(request, "resolver_match", None)) and match.url_name in IN_EVERY_LANGUAGE:
        viewname = f"articles:{match.url_name}"
        same = [_version(code, languages.url_in(code, viewname, **match.kwargs)) for code in others]
        own = _version(here, languages.url_in(here, viewname, **match.kwargs))
    else:
        same, own = [], None
    found = {version.language for version in same}
    homes = [_version(code, languages.url_in(code, "articles:home")) for code in others if code not in found]
    order = list(languages.NAMES)
    alternates = sorted(map(_absolute, [own, *same]), key=lambda v: order.index(v.language)) if same else []
    return PageLanguages(switch=same + homes, alternates=alternates)
