import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from post_office import mail as post_office_mail

from articles.models import Article, Disclaimer, Reference, StaffProfile, Topic, UrgentHelp

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    profile = factory.RelatedFactory("tests.factories.StaffProfileFactory", factory_related_name="user")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WriterFactory(UserFactory):
    """A staff member of the Writers group, as article authors are."""

    is_staff = True

    @factory.post_generation
    def writer_group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get(name="Writers"))


class StaffProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffProfile

    display_name = factory.Faker("name")
    credentials = "MD"
    slug = factory.Sequence(lambda n: f"staff-{n}")


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ReferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reference

    citation_key = factory.Sequence(lambda n: f"ref{n}")
    authors = factory.LazyFunction(
        lambda: [{"family": "Mahmoud", "given": "Rami H"}, {"family": "Eber", "given": "Ariel E"}]
    )
    title = factory.Sequence(lambda n: f"A study of exosomes, part {n}")
    journal = "Journal of Clinical and Aesthetic Dermatology"
    journal_abbrev = "J Clin Aesthet Dermatol"
    year = 2025
    volume = "18"
    issue = "4"
    pages = "33-40"
    doi = factory.Sequence(lambda n: f"10.5555/demo.{n}")
    pmid = factory.Sequence(lambda n: str(40000000 + n))


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Exosomes and you, part {n}")
    slug = factory.Sequence(lambda n: f"exosomes-and-you-{n}")
    summary = "What exosome treatments are, and what the research does and does not show."
    body = "<p>Exosomes are tiny packages that cells release.</p>"
    author = factory.SubFactory(WriterFactory)

    @factory.post_generation
    def topics(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.topics.set(extracted)


class DisclaimerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Disclaimer

    title = factory.Sequence(lambda n: f"Disclaimer {n}")
    text = "<p>This article is for education. It is not medical advice.</p>"
    scope = Disclaimer.Scope.ALL


class UrgentHelpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UrgentHelp

    topic = factory.SubFactory(TopicFactory)
    heading = factory.Sequence(lambda n: f"Get urgent help {n}")
    symptoms = "Redness spreading around the wound\nPus or a bad smell\nA high temperature"
    same_day_phone = "(555) 010-2040"
    emergency_symptoms = "Confusion or fainting"
    emergency_phone = "911"


def member_of(group_name: str, **fields):
    """Return a new staff user in one of the role groups (Writers, Reviewers, Editors)."""
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def sitewide_disclaimer(language: str = "en") -> Disclaimer:
    """Return the active site-wide disclaimer publishing in `language` requires, making one if there is none."""
    active = Disclaimer.objects.filter(scope=Disclaimer.Scope.ALL, is_active=True, language=language)
    return active.first() or DisclaimerFactory(title="Not medical advice", language=language)


def review(article: Article, *, reviewer=None, level: str = "E", certainty: str = "low", submitter=None):
    """Take the article through review: submit it, approve every statement, sign it off. Return the reviewer."""
    from articles import workflow

    reviewer = reviewer or member_of("Reviewers")
    if not article.topics.exists():
        article.topics.add(TopicFactory())
    article.refresh_from_db()
    if article.status != Article.Status.IN_REVIEW:
        workflow.submit_for_review(article, by=submitter or member_of("Editors"))
    for statement in article.evidence_statements.all():
        workflow.approve_statement(
            statement, by=reviewer, seen_hash=statement.statement_hash, evidence_level=level, certainty=certainty
        )
    workflow.sign_off(article, by=reviewer, seen_hash=article.content_hash())
    return reviewer


def publish_reviewed(article: Article, *, editor=None, reviewer=None, level: str = "E"):
    """Review the article (every statement approved, signed off) and publish it. Return the snapshot."""
    from articles import workflow

    sitewide_disclaimer(article.language)
    review(article, reviewer=reviewer, level=level)
    return workflow.publish(article, by=editor or member_of("Editors"))


def admin_form_data(article: Article, **extra) -> dict:
    """Return what the admin's change form posts for the article as it is, plus `extra`."""
    return {
        "title": article.title,
        "slug": article.slug,
        "language": article.language,
        "translation_of": article.translation_of_id or "",
        "summary": article.summary,
        "body": article.body,
        "topics": list(article.topics.values_list("pk", flat=True)),
        "author": article.author_id,
        "review_interval_months": article.review_interval_months or "",
        **extra,
    }


def deliver_queued_mail() -> list:
    """Deliver the outbox as a run of `send_queued_mail` does; return Django's test outbox (all sent so far).

    This is the batch the command runs (post_office's `send_queued`) without the command's lock file and its
    closing of the database connection, which would end the test's transaction.
    """
    post_office_mail.send_queued()
    return mail.outbox


def live_article(
    *,
    title="Exosomes and wound healing",
    summary="What studies show.",
    body=None,
    topics=None,
    reference=None,
    **fields,
):
    reference = reference or ReferenceFactory()
    body = body or f"<p>In mice, wounds closed faster [@{reference.citation_key}].</p>"
    article = ArticleFactory(title=title, summary=summary, body=body, topics=topics or [TopicFactory()], **fields)
    publish_reviewed(article)
    article.refresh_from_db()
    return article


def library_image(content: bytes | None = None, name: str = "skin-layers.png", **fields):
    """Return an image stored in the library (with its renditions) as an upload in the admin stores one."""
    from articles import images, renditions
    from articles.models import Image
    from tests.data.hostile_images import picture

    clean = images.clean_image(content or picture("PNG", size=(700, 350)), name)
    fields = {"title": "Layers of the skin", "alt_text": "The skin's three layers, labelled", **fields}
    image = Image(original_name=name, **fields)
    renditions.save_upload(image, clean, save=image.save)
    return image
