"""A topic's "Get urgent help" box (articles/models/urgent_help.py) and its admin: editors keep it, staff read it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from articles.models import UrgentHelp
from articles.models.urgent_help import (
    MAX_SYMPTOMS,
    NO_SYMPTOMS,
    PHONE_INVALID,
    TOO_MANY_SYMPTOMS,
    tel_href,
    validate_phone,
)
from tests.factories import TopicFactory, UrgentHelpFactory

pytestmark = pytest.mark.django_db


def form_data(topic, **extra) -> dict:
    return {
        "topic": topic.pk,
        "heading": "Signs of a wound infection",
        "symptoms": "Redness spreading around the wound\r\nPus\r\n\r\nA fever",
        "same_day_contact": "the clinic",
        "same_day_phone": "(555) 010-2040",
        "emergency_symptoms": "",
        "emergency_phone": "911",
        "is_active": "on",
        **extra,
    }


@pytest.mark.parametrize(
    ("number", "href"),
    [("911", "tel:911"), ("(555) 010-2040", "tel:5550102040"), ("+44 20 7946 0958", "tel:+442079460958")],
)
def test_a_phone_number_becomes_a_tel_link(number, href):
    validate_phone(number)
    assert tel_href(number) == href


@pytest.mark.parametrize("number", ["", "12", "call us", "911; DROP", "javascript:alert(1)", "+1 555 010 2040 9999 99"])
def test_a_phone_number_patients_cannot_dial_is_refused(number):
    with pytest.raises(ValidationError) as refused:
        validate_phone(number)
    assert refused.value.messages == [PHONE_INVALID]


def test_symptoms_are_plain_text_one_to_a_line_whatever_was_typed():
    box = UrgentHelpFactory(
        heading="<b>Get help</b><script>alert(1)</script>",
        symptoms='<p>Redness <img src=x onerror="alert(1)">spreading</p>\n\n  <script>x()</script>\nPus &amp; fever',
    )
    box.refresh_from_db()
    assert box.heading == "Get help"
    assert box.symptom_list == ["Redness spreading", "Pus & fever"]


@pytest.mark.parametrize(
    ("symptoms", "message"), [("<b></b>\n  \n", NO_SYMPTOMS), ("a\n" * (MAX_SYMPTOMS + 1), TOO_MANY_SYMPTOMS)]
)
def test_a_box_needs_a_short_list_of_symptoms(symptoms, message):
    box = UrgentHelp(topic=TopicFactory(), symptoms=symptoms, same_day_phone="911")
    with pytest.raises(ValidationError) as refused:
        box.full_clean()
    assert refused.value.message_dict["symptoms"] == [message]


def test_a_symptom_must_fit_on_a_line():
    box = UrgentHelp(topic=TopicFactory(), symptoms="Pus\n" + "very " * 50, same_day_phone="911")
    with pytest.raises(ValidationError, match="one short line"):
        box.full_clean()


def test_an_editor_adds_a_box_and_its_history_names_them(client, editor):
    topic = TopicFactory(name="Wound care")
    client.force_login(editor)
    response = client.post(reverse("admin:articles_urgenthelp_add"), form_data(topic))
    assert response.status_code == 302
    box = UrgentHelp.objects.get(topic=topic)
    assert box.symptom_list == ["Redness spreading around the wound", "Pus", "A fever"]
    client.post(reverse("admin:articles_urgenthelp_change", args=[box.pk]), form_data(topic, heading="Get help today"))
    history = list(box.history.order_by("history_date").values_list("heading", "history_user"))
    assert history == [("Signs of a wound infection", editor.pk), ("Get help today", editor.pk)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("symptoms", "", NO_SYMPTOMS),
        ("symptoms", "<i> </i>", NO_SYMPTOMS),
        ("same_day_phone", "ring the clinic", PHONE_INVALID),
        ("same_day_phone", "", PHONE_INVALID),
        ("emergency_phone", "9", PHONE_INVALID),
    ],
)
def test_malformed_input_gets_a_clear_message_and_saves_nothing(client, editor, field, value, message):
    client.force_login(editor)
    response = client.post(reverse("admin:articles_urgenthelp_add"), form_data(TopicFactory(), **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not UrgentHelp.objects.exists()


def test_a_topic_has_one_box(client, editor):
    box = UrgentHelpFactory()
    client.force_login(editor)
    response = client.post(reverse("admin:articles_urgenthelp_add"), form_data(box.topic))
    assert response.status_code == 200
    assert "topic" in response.context["adminform"].form.errors
    assert UrgentHelp.objects.count() == 1


@pytest.mark.parametrize("role", ["writer", "reviewer"])
def test_writers_and_reviewers_see_a_box_but_cannot_add_change_or_delete_it(client, request, role):
    box = UrgentHelpFactory(heading="Get help for a wound")
    client.force_login(request.getfixturevalue(role))
    url = reverse("admin:articles_urgenthelp_change", args=[box.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Get help for a wound" in page.content.decode()
    assert 'name="heading"' not in page.content.decode()  # read-only: no form field
    assert client.post(url, form_data(box.topic, heading="Changed")).status_code == 403
    assert client.get(reverse("admin:articles_urgenthelp_add")).status_code == 403
    assert client.get(reverse("admin:articles_urgenthelp_delete", args=[box.pk])).status_code == 403
    box.refresh_from_db()
    assert box.heading == "Get help for a wound"


def test_editors_retire_a_box_rather_than_delete_it(client, editor):
    box = UrgentHelpFactory()
    client.force_login(editor)
    assert client.get(reverse("admin:articles_urgenthelp_delete", args=[box.pk])).status_code == 403
    page = client.get(reverse("admin:articles_urgenthelp_change", args=[box.pk])).content.decode()
    assert 'name="is_active"' in page


def test_patients_cannot_open_the_admin_page(client, patient):
    client.force_login(patient)
    response = client.get(reverse("admin:articles_urgenthelp_changelist"))
    assert response.status_code == 302
