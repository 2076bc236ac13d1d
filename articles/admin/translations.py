"""The admin's side of translations: start one from the original's page, and see an article's translations."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse

from articles import languages, permissions, translations
from articles.models import Article


class TranslationAdminMixin:
    """For ArticleAdmin: the "Translate into ..." buttons (object tools) and the translations panel."""

    def get_urls(self):
        translate = path(
            "<int:object_id>/translate/<str:language>/",
            self.admin_site.admin_view(self.translate_view),
            name="articles_article_translate",
        )
        return [translate, *super().get_urls()]

    def translate_view(self, request, object_id, language):
        """POST only: start a draft translation (translations.start_translation) and open it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        source = get_object_or_404(Article, pk=object_id)
        try:
            draft = translations.start_translation(source, language, by=request.user)
        except translations.CannotTranslate as refusal:
            messages.error(request, str(refusal))
            return redirect("admin:articles_article_change", source.pk)
        messages.success(
            request,
            f"Started the {draft.get_language_display()} translation, a draft with the original's text: replace it "
            "sentence by sentence and keep each citation where it is, so the reviewer sees each statement beside "
            "the one it translates.",
        )
        return redirect("admin:articles_article_change", draft.pk)

    def translation_choices(self, request, article: Article) -> list[tuple[str, str, str]]:
        """(language name, address) of each translation the person may start from this article's page now."""
        if article.translation_of_id or article.language != languages.DEFAULT:
            return []
        if not permissions.can_translate(request.user, article):
            return []
        started = set(article.translations.values_list("language", flat=True))
        return [
            (languages.NAMES[code], reverse("admin:articles_article_translate", args=[article.pk, code]))
            for code in languages.PREFIXED
            if code not in started
        ]

    def translations_panel(self, obj):
        """The original this translates, or this article's translations, each with whether it is out of date."""
        if obj is None or obj.pk is None:
            return "—"
        return render_to_string(
            "admin/articles/article/_translations.html",
            {"article": obj, "translation_family": translations.family_on_desk(obj)},
        )

    translations_panel.short_description = "Translations"
