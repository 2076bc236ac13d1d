"""Seconds the admin takes over an article body of each size (run by hand, against PostgreSQL).

    env DEBUG=0 SECRET_KEY=x SECURE_SSL_REDIRECT=0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic \\
        python tests/perf/body_sizes.py [--sizes 50000 100000 200000]

It creates a test database of its own (dropped at the end), an article per size from tests/large_bodies.py
citing two references, and times, as its writer: opening the change page, the preview, saving the change form
unchanged, and the claim checks (workflow.review_status). A size over the limit (BODY_MAX_CHARS) is refused
on save, so its save row times the refusal. Collect static files first (manage.py collectstatic).
Each step should take well under the worker timeout at the limit and grow in proportion to the size.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic_site.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from articles import workflow  # noqa: E402
from articles.models import BODY_MAX_CHARS  # noqa: E402
from tests.factories import ArticleFactory, ReferenceFactory, TopicFactory, member_of  # noqa: E402
from tests.large_bodies import large_body  # noqa: E402


def steps(client: Client, article) -> dict:
    """Return each step to time, as a function of no arguments."""
    change = reverse("admin:articles_article_change", args=[article.pk])
    form = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body,
        "author": article.author_id,
        "topics": [topic.pk for topic in article.topics.all()],
    }
    return {
        "change page": lambda: client.get(change),
        "preview": lambda: client.get(reverse("admin:articles_article_preview", args=[article.pk])),
        "save": lambda: client.post(change, form),
        "claim checks": lambda: workflow.review_status(article),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000, BODY_MAX_CHARS])
    options = parser.parse_args()
    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_body_sizes"  # not pytest's
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        ReferenceFactory(citation_key="mahmoud2025"), ReferenceFactory(citation_key="hu2016")
        writer, topic = member_of("Writers"), TopicFactory(is_treatment=True)
        client = Client()
        client.force_login(writer)
        print(f"{'step':<14}" + "".join(f"{size:>12,}" for size in options.sizes))
        timings: dict[str, list[float]] = {}
        for size in options.sizes:
            article = ArticleFactory(author=writer, body=large_body(size), topics=[topic])
            for step, action in steps(client, article).items():
                started = time.perf_counter()
                action()
                timings.setdefault(step, []).append(time.perf_counter() - started)
        for step, seconds in timings.items():
            print(f"{step:<14}" + "".join(f"{elapsed:>11.2f}s" for elapsed in seconds))
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
