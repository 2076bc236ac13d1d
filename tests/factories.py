import factory
from django.contrib.auth import get_user_model

from articles.models import Article, Disclaimer, Reference, StaffProfile, Topic

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
    author = factory.SubFactory(UserFactory, is_staff=True)

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
