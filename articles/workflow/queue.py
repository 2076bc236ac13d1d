"""The publishing queue: signed-off and scheduled articles sorted by the verdict the gate applies to each now."""

from dataclasses import dataclass

from articles.models import Article
from articles.parse_once import parse_once
from articles.workflow.gate_reads import GateReads
from articles.workflow.status import ReviewStatus, review_status_from


@dataclass
class PublishingQueue:
    """Signed-off and scheduled articles sorted by what the gate says of each now (`review_status`).

    `ready`: publishing would go ahead. `reapproval`: a change to a cited reference withdrew approvals; a
    reviewer approves again and signs off (the article keeps its place). `blocked`: anything else stops it,
    each article carrying `publish_problems`, what `publish` would refuse it for.
    """

    ready: list[Article]
    reapproval: list[Article]
    blocked: list[Article]


@parse_once()
def review_statuses(articles) -> list[ReviewStatus]:
    """Return `review_status` of each article, in order, in a fixed number of queries however many there are.

    The same code works out each verdict from records read for all of them at once (`GateReads`); their
    `reference_reapproval` is read here too, for those whose sign-off a re-approval might put back.
    """
    articles = list(articles)
    if not articles:
        return []
    reads = GateReads.of(articles)
    statuses = [review_status_from(article, reads) for article in articles]
    reads.read_revisions({s.article.pk: s.reapproval_since for s in statuses if s.reapproval_since})
    return statuses


def publishing_queue(articles) -> PublishingQueue:
    """Sort signed-off or scheduled `articles` by the gate's verdict, so no list calls ready what it refuses."""
    queue = PublishingQueue([], [], [])
    for status in review_statuses(articles):
        article = status.article
        article.publish_problems = status.problems
        if not article.publish_problems:
            queue.ready.append(article)
        elif status.reference_reapproval:
            queue.reapproval.append(article)
        else:
            queue.blocked.append(article)
    return queue
