"""The edge purge outbox for editors: what each change asked the edges to forget, and what they have not confirmed.

Nothing is written here but a request to send again now; the outbox itself is written by the changes
(articles.edge.outbox) and sent after each commit and by `manage.py send_purges`.
"""

from django.contrib import admin
from django.utils import timezone

from articles.admin.base import ReadOnlyAdmin
from articles.edge import outbox, tags
from articles.models import EdgePurge


class PendingFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", "Not yet confirmed"), ("no", "Purged")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.pending()
        if self.value() == "no":
            return queryset.filter(purged_at__isnull=False)
        return queryset


@admin.action(description="Send the selected purges again now", permissions=["view"])
def send_again(modeladmin, request, queryset):
    """Make them due now and send every due purge; whoever may read the outbox may ask for that."""
    queryset.pending().update(next_attempt_at=timezone.now())
    sent = outbox.send_due()
    still = outbox.failing().count()
    modeladmin.message_user(request, f"{sent} purge(s) confirmed by every edge; {still} still failing.")


@admin.register(EdgePurge)
class EdgePurgeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tag_list", "state", "last_error"]
    list_filter = [PendingFilter]
    actions = [send_again]
    date_hierarchy = "created_at"

    @admin.display(description="pages it purges")
    def tag_list(self, purge: EdgePurge) -> str:
        return tags.describe(purge.tags)

    @admin.display(description="state")
    def state(self, purge: EdgePurge) -> str:
        if purge.purged_at:
            return f"purged {timezone.localtime(purge.purged_at):%Y-%m-%d %H:%M:%S}"
        tries = f"{purge.attempts} tr{'y' if purge.attempts == 1 else 'ies'} failed; " if purge.attempts else ""
        return f"{tries}next try {timezone.localtime(purge.next_attempt_at):%H:%M:%S}"
