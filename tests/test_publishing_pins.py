"""Nothing a reviewer did not see gets published: issue #13, items 1-3, and every field the admin can change.

A signed-off article's byline, address and cited references' records (abstract, publication type, retraction)
are pinned by the hashes its approvals and sign-off carry; articles/patient_visible.py lists every field the
admin lets staff edit, and the tests below read those fields off the real admin forms.
"""

import datetime
import hashlib
import json

import pytest
from django import forms
from django.contrib import admin
from django.db import models, transaction
from django.test import RequestFactory
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from articles import citations, patient_visible, workflow
from articles.forms import AUTHOR_COLUMNS, AuthorRowsField
from articles.models import Article, AuditEvent, PublishedSnapshot, Reference, StatementApproval
from articles.publication_types import PublicationType
from tests.factories import (
    ArticleFactory,
    ReferenceFactory,
    TopicFactory,
    WriterFactory,
    member_of,
    publish_reviewed,
    review,
    sitewide_disclaimer,
)

pytestmark = pytest.mark.django_db

CURE = "A randomised trial showed a cure for hair loss in every patient."
TIME_FIELDS = {"id", "published_at", "first_published_at"}  # when it was published, not what


# --- A signed-off article, and the admin forms staff change it with ---------------------------------------


@pytest.fixture
def signed_off(db):
    """A signed-off article with two approved statements citing one reference, and its people."""
    sitewide_disclaimer()
    reference = ReferenceFactory(
        citation_key="mahmoud2025",
        abstract="A review of laboratory and animal studies; no controlled trials in people.",
        publication_type=PublicationType.REVIEW,
    )
    writer, reviewer, editor = WriterFactory(), member_of("Reviewers"), member_of("Editors")
    article = ArticleFactory(
        author=writer,
        topics=[TopicFactory()],
        body="<p>Exosomes are tiny packages that cells release.</p>"
        "<p>In mice, wounds healed faster [@mahmoud2025].</p><p>In cell studies, hair cells grew [@mahmoud2025].</p>",
    )
    review(article, reviewer=reviewer)
    article.refresh_from_db()
    assert article.status == Article.Status.SIGNED_OFF
    return {"article": article, "reference": reference, "writer": writer, "reviewer": reviewer, "editor": editor}


def admin_form(model, user, obj):
    """Return the form class the real admin gives `user` for `obj`: only the fields it lets them edit."""
    request = RequestFactory().get("/")
    request.user = user
    return admin.site._registry[model].get_form(request, obj)


def editable_fields(model, users, obj) -> set[str]:
    return {name for user in users for name in admin_form(model, user, obj).base_fields}


def _encoded(field, name: str, value) -> dict:
    """Return what a browser posts for `value` in the admin form's `field`."""
    if isinstance(field, AuthorRowsField):
        data = {f"{name}-count": str(len(value))}
        for index, author in enumerate(value):
            data[f"{name}-{index}-order"] = str(index + 1)
            for column, _label, _attrs in AUTHOR_COLUMNS:
                if column not in ("order", "remove"):
                    data[f"{name}-{index}-{column}"] = author.get(column, "")
        return data
    if isinstance(field, forms.BooleanField):
        return {name: "on" if value else ""}
    if isinstance(field, forms.ModelMultipleChoiceField):
        return {name: [str(getattr(item, "pk", item)) for item in value or []]}
    if isinstance(value, datetime.date):
        return {name: value.isoformat()}
    return {name: "" if value is None else str(getattr(value, "pk", value))}


def post_data(form_class, obj, **changes) -> dict:
    """Return what the admin's change form posts for `obj` as it is, with `changes` typed in."""
    initial = form_class(instance=obj).initial
    data = {"_save": "Save"}
    for name, field in form_class.base_fields.items():
        data.update(_encoded(field, name, changes[name] if name in changes else initial.get(name)))
    return data


def save_in_admin(client, user, obj, **changes):
    """Save `changes` to `obj` through its admin change form as `user`, confirming a reference change."""
    model = type(obj)
    client.force_login(user)
    url = reverse(f"admin:articles_{model._meta.model_name}_change", args=[obj.pk])
    data = post_data(admin_form(model, user, obj), obj, **changes)
    response = client.post(url, data)
    if response.status_code == 200 and "fingerprint" in (response.context or {}):  # "Save this change?"
        response = client.post(url, {**data, response.context["confirm_field"]: response.context["fingerprint"]})
    return response


def published_fields(snapshot: PublishedSnapshot) -> dict:
    """Return everything a snapshot freezes of the article, apart from when it was published."""
    values = {f.name: getattr(snapshot, f.attname) for f in PublishedSnapshot._meta.concrete_fields}
    values = {name: value for name, value in values.items() if name not in TIME_FIELDS}
    return {**values, "topic_set": sorted(snapshot.topic_set.values_list("pk", flat=True))}


# --- Items 1-3 of issue #13, as the issue tells them -------------------------------------------------------


def test_a_writer_changing_only_the_author_cannot_get_the_new_byline_published(client, signed_off):
    article, editor = signed_off["article"], signed_off["editor"]
    other = WriterFactory()
    response = save_in_admin(client, signed_off["writer"], article, author=other)
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.author, article.status) == (other, Article.Status.DRAFT)  # back through review
    with pytest.raises(workflow.WorkflowError):
        workflow.publish(article, by=editor)
    assert not PublishedSnapshot.objects.filter(article=article).exists()


def test_a_writer_changing_only_the_topics_sends_a_signed_off_article_back_through_review(client, signed_off):
    article = signed_off["article"]
    response = save_in_admin(client, signed_off["writer"], article, topics=[*article.topics.all(), TopicFactory()])
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_new_credentials_of_the_author_withdraw_the_sign_off(signed_off):
    article, profile = signed_off["article"], signed_off["writer"].staff_profile
    profile.credentials = "Board-certified in everything"
    profile.save()
    with pytest.raises(workflow.WorkflowError, match="changed after it was signed off"):
        workflow.publish(article, by=signed_off["editor"])
    # Nothing the writer typed changed: a reviewer reads the new byline and signs it off again.
    workflow.sign_off(article, by=signed_off["reviewer"], seen_hash=article.content_hash())
    snapshot = workflow.publish(article, by=signed_off["editor"])
    assert snapshot.author["credentials"] == "Board-certified in everything"


def test_a_writer_changing_only_the_slug_cannot_get_the_new_address_published(client, signed_off):
    article = signed_off["article"]
    response = save_in_admin(client, signed_off["writer"], article, slug="exosomes-cure-everything")
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.slug, article.status) == ("exosomes-cure-everything", Article.Status.DRAFT)
    with pytest.raises(workflow.WorkflowError):
        workflow.publish(article, by=signed_off["editor"])
    assert not PublishedSnapshot.objects.filter(article=article).exists()


def test_the_old_address_of_an_article_republished_under_a_new_slug_redirects_permanently(client, writer, editor):
    article = ArticleFactory(author=writer, body="<p>In mice, wounds healed [@mahmoud2025].</p>")
    ReferenceFactory(citation_key="mahmoud2025")
    publish_reviewed(article, editor=editor)
    old_url = article.get_absolute_url()
    save_in_admin(client, writer, article, slug="exosomes-and-wound-healing")
    article.refresh_from_db()
    review(article)
    workflow.publish(article, by=editor)
    client.logout()
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"] == reverse("articles:article_detail", kwargs={"slug": "exosomes-and-wound-healing"})
    assert client.get(response["Location"]).status_code == 200
    unrelated = reverse("articles:article_detail", kwargs={"slug": "no-article-was-ever-here"})
    assert client.get(unrelated).status_code == 404


def test_editing_the_cited_references_abstract_and_type_withdraws_the_approvals(client, signed_off):
    article, reference = signed_off["article"], signed_off["reference"]
    client.force_login(signed_off["writer"])
    url = reverse("admin:articles_reference_change", args=[reference.pk])
    data = post_data(
        admin_form(Reference, signed_off["writer"], reference),
        reference,
        abstract=CURE,
        publication_type=PublicationType.RANDOMISED_TRIAL,
    )
    asked = client.post(url, data)
    # The confirmation page says what saving withdraws: both statements' approvals and the sign-off.
    assert asked.status_code == 200
    [consequence] = asked.context["consequences"]
    assert (consequence.statement_numbers, consequence.sign_off is not None) == ([1, 2], True)
    assert "the record of a reference it cites would change (mahmoud2025)" in asked.content.decode()
    client.post(url, {**data, asked.context["confirm_field"]: asked.context["fingerprint"]})
    reference.refresh_from_db()
    assert (reference.abstract, reference.publication_type) == (CURE, PublicationType.RANDOMISED_TRIAL)

    with pytest.raises(workflow.WorkflowError, match="Statement 1 cites a reference whose record changed"):
        workflow.publish(article, by=signed_off["editor"])
    status = workflow.review_status(article)
    assert [item.state for item in status.statements] == ["reference_changed", "reference_changed"]
    assert workflow.publishing_queue([article]).reapproval == [article]  # the desk lists it for re-approval


def test_each_pinned_reference_field_would_withdraw_every_approval_and_the_sign_off(signed_off):
    reference = signed_off["reference"]
    for name in patient_visible.pinned(patient_visible.REFERENCE_FIELDS):
        changed = Reference.objects.get(pk=reference.pk)
        field = Reference._meta.get_field(name)
        setattr(changed, name, _another_value(field, getattr(changed, name)))
        [consequence] = workflow.reference_change_consequences([changed])
        assert (consequence.statement_numbers, consequence.sign_off is not None) == ([1, 2], True), name


def _another_value(field, value):
    """Return a value of the model field's type that differs from `value`."""
    if isinstance(field, models.BooleanField):
        return not value
    if isinstance(field, models.IntegerField):
        return (value or 0) + 1
    if isinstance(field, models.DateField):
        return (value or datetime.date(2025, 1, 1)) + datetime.timedelta(days=1)
    if isinstance(field, models.JSONField):
        return [*value, {"literal": "A collaborative group"}]
    if field.choices:
        return next(choice for choice, _label in field.flatchoices if choice != value)
    if isinstance(field, models.URLField):
        return "https://example.org/another"
    return f"{value}x"


ARTICLE_CHANGES = {
    "title": lambda article: setattr(article, "title", article.title + " (updated)"),
    "slug": lambda article: setattr(article, "slug", article.slug + "-moved"),
    "language": lambda article: setattr(article, "language", "es"),
    "summary": lambda article: setattr(article, "summary", article.summary + " More."),
    "body": lambda article: setattr(article, "body", article.body + "<p>Another sentence.</p>"),
    "topics": lambda article: article.topics.add(TopicFactory()),
    "author": lambda article: setattr(article, "author", WriterFactory()),
    "drafted_with_ai": lambda article: setattr(article, "drafted_with_ai", not article.drafted_with_ai),
    "review_interval_months": lambda article: setattr(article, "review_interval_months", 7),
    "correction_note": lambda article: setattr(article, "correction_note", "We corrected the dose."),
    "key_points": lambda article: setattr(article, "key_points", "<ul><li>Ask about other options.</li></ul>"),
}


def test_each_pinned_article_field_changes_the_content_hash(signed_off):
    before = signed_off["article"].content_hash()
    for name in patient_visible.pinned(patient_visible.ARTICLE_FIELDS):
        with transaction.atomic():
            article = Article.objects.get(pk=signed_off["article"].pk)
            ARTICLE_CHANGES[name](article)
            assert article.content_hash() != before, name
            transaction.set_rollback(True)


def test_every_field_the_admin_lets_staff_edit_is_declared(signed_off, admin_user):
    """A new field in an admin form fails here until patient_visible.py says whether the review pins it."""
    article, reference = signed_off["article"], signed_off["reference"]
    staff = [signed_off["writer"], signed_off["editor"], admin_user]
    assert editable_fields(Article, staff, article) == set(patient_visible.ARTICLE_FIELDS)
    assert editable_fields(Reference, staff, reference) == set(patient_visible.REFERENCE_FIELDS)
    # Each column of the authors rows lands in the authors list, which is pinned whole.
    assert patient_visible.REFERENCE_FIELDS["authors"] == patient_visible.PINNED
    blank = {column: "" for column, _label, _attrs in AUTHOR_COLUMNS}
    for column in set(blank) - {"order", "remove"}:
        row = {**blank, "order": "1", "family": "" if column == "literal" else "Smith", column: "Doe"}
        [author] = AuthorRowsField().clean([row])
        assert author[column] == "Doe"


def test_a_new_ama_formatting_withdraws_no_approval(signed_off, monkeypatch):
    """Approvals are pinned to the records, not to how the formatter writes them (issue #14)."""
    monkeypatch.setattr(citations, "format_ama", lambda ref: f"{ref.title}. Reformatted.")
    status = workflow.review_status(signed_off["article"])
    assert [item.state for item in status.statements] == ["approved", "approved"]
    assert status.sign_off is not None


def test_an_approval_pinned_by_an_earlier_hash_says_so(client, writer, reviewer):
    reference = ReferenceFactory(citation_key="mahmoud2025")
    article = ArticleFactory(author=writer, topics=[TopicFactory()], body="<p>In mice, hair grew [@mahmoud2025].</p>")
    workflow.submit_for_review(article, by=writer)
    [statement] = article.evidence_statements.all()
    with workflow.gate():  # as the workflow wrote approvals before, pinned to the AMA string
        AuditEvent.objects.create(
            article=article, actor=reviewer, action="articles.statement.approve", to_state=article.status
        )
        StatementApproval.objects.create(
            article=article,
            statement_hash=statement.statement_hash,
            statement_text=statement.text,
            cited_keys=["mahmoud2025"],
            references_hash=hashlib.sha256(json.dumps([["mahmoud2025", reference.ama]]).encode()).hexdigest(),
            hash_version=1,
            evidence_level="E",
            certainty="low",
            reviewer=reviewer,
        )
    [item] = workflow.review_status(article).statements
    assert item.problem == workflow.APPROVED_UNDER_EARLIER_RULES.format(number=1)
    client.force_login(reviewer)
    page = client.get(reverse("articles:review_article", args=[article.pk])).content.decode()
    assert "approvals then did not yet cover each cited reference's full record" in page


# --- Property: whatever staff change in the admin, publishing refuses or publishes what was reviewed --------


def strategy_for(field, current):
    """Return a hypothesis strategy of values a person could type into the admin form's `field`."""
    if isinstance(field, AuthorRowsField):
        author = st.fixed_dictionaries({"family": st.text(_LETTERS, min_size=1, max_size=12)})
        return st.one_of(st.just(current), st.just(current[::-1]), st.lists(author, max_size=3))
    if isinstance(field, forms.BooleanField):
        return st.booleans()
    if isinstance(field, forms.ModelMultipleChoiceField):
        return st.lists(st.sampled_from(list(field.queryset.values_list("pk", flat=True)[:5])), max_size=3)
    if isinstance(field, forms.ModelChoiceField):
        return st.sampled_from(list(field.queryset.values_list("pk", flat=True)[:5]))
    if isinstance(field, forms.ChoiceField):
        return st.sampled_from([choice for choice, _label in field.choices if not isinstance(_label, list | tuple)])
    if isinstance(field, forms.IntegerField):
        return st.none() | st.integers(field.min_value or 0, field.max_value or 3000)
    if isinstance(field, forms.DateField):
        return st.none() | st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 1, 1))
    if isinstance(field, forms.URLField):
        return st.sampled_from(["", current or "", "https://example.org/a", "https://evil.example/x"])
    if isinstance(field, forms.CharField):
        patterns = [v.regex for v in field.validators if hasattr(v, "regex")]
        typed = st.from_regex(patterns[0], fullmatch=True) if patterns else st.text(_TYPED, max_size=40)
        current = current or ""
        # The same, the same with spaces around (which saving trims), one more word, or anything.
        return st.one_of(st.just(current), st.just(f" {current} "), st.just(f"{current} more"), typed)
    raise AssertionError(f"No strategy for {type(field).__name__}: add one so its field is driven too.")


_LETTERS = st.characters(categories=("L",))
_TYPED = st.characters(categories=("L", "N", "P", "Zs", "S"))
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def reviewed(signed_off, client):
    """The signed-off article, and the snapshot publishing it as it stands would freeze."""
    with transaction.atomic():
        snapshot = workflow.publish(signed_off["article"], by=signed_off["editor"])
        expected = published_fields(snapshot)
        transaction.set_rollback(True)
    return {**signed_off, "expected": expected, "client": client}


def _publishes_only_what_was_reviewed(reviewed, obj, name: str, value) -> None:
    """Save `name` = `value` to `obj` in the admin (as the writer, or an editor if only editors may), then
    check that publishing is refused or freezes exactly the reviewed snapshot; undo it all."""
    writer = reviewed["writer"]
    user = writer if name in admin_form(type(obj), writer, obj).base_fields else reviewed["editor"]
    with transaction.atomic():
        response = save_in_admin(reviewed["client"], user, obj, **{name: value})
        assert response.status_code in (200, 302)
        article = Article.objects.get(pk=reviewed["article"].pk)
        saved = "saved" if response.status_code == 302 else "refused by the form"
        try:
            snapshot = workflow.publish(article, by=reviewed["editor"])
        except workflow.WorkflowError:
            event(f"{name} {saved}, publishing refused")  # see them with --hypothesis-show-statistics
        else:
            event(f"{name} {saved}, published")
            assert published_fields(snapshot) == reviewed["expected"], (name, value)
        transaction.set_rollback(True)


@PROPERTY
@given(data=st.data())
def test_any_article_change_in_the_admin_is_refused_or_publishes_what_was_reviewed(reviewed, data):
    article = Article.objects.get(pk=reviewed["article"].pk)
    fields = {**admin_form(Article, reviewed["editor"], article).base_fields}
    name = data.draw(st.sampled_from(sorted(fields)), label="field")
    current = admin_form(Article, reviewed["editor"], article)(instance=article).initial.get(name)
    value = data.draw(strategy_for(fields[name], current), label="value")
    _publishes_only_what_was_reviewed(reviewed, article, name, value)


@PROPERTY
@given(data=st.data())
def test_any_cited_reference_change_in_the_admin_is_refused_or_publishes_what_was_reviewed(reviewed, data):
    reference = Reference.objects.get(pk=reviewed["reference"].pk)
    form_class = admin_form(Reference, reviewed["writer"], reference)
    name = data.draw(st.sampled_from(sorted(form_class.base_fields)), label="field")
    current = form_class(instance=reference).initial.get(name)
    value = data.draw(strategy_for(form_class.base_fields[name], current), label="value")
    _publishes_only_what_was_reviewed(reviewed, reference, name, value)
