"""The publishing queue: signed-off and scheduled articles sorted by the verdict the gate applies to each now."""

from dataclasses import dataclass

from articles.models import Article
from articles.workflow.status import review_status


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


def publishing_queue(articles) -> PublishingQueue:
    """Sort signed-off or scheduled `articles` by the gate's verdict, so no list calls ready what it refuses.

    Each article costs one `review_status`: callers pass the few rows a page shows, never a whole table.
    """
    queue = PublishingQueue([], [], [])
    for article in articles:
        status = review_status(article)
        article.publish_problems = status.problems
        if not article.publish_problems:
            queue.ready.append(article)
        elif status.reference_reapproval:
            queue.reapproval.append(article)
        else:
            queue.blocked.append(article)
    return queue
