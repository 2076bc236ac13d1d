"""The mail outbox (django-post-office): every mail a workflow step wrote, what became of each try, and a way to
queue again what failed. Nothing here sends: the sender (`send_queued_mail`, cron) delivers what is queued."""

from django.contrib import admin
from django.utils import timezone
from post_office.admin import EmailAdmin, LogInline
from post_office.models import STATUS, Attachment, Email, EmailTemplate

admin.site.unregister([Email, EmailTemplate, Attachment])  # our mail is plain text: no templates, no attachments


@admin.action(description="Send the selected mail again", permissions=["view"])
def send_again(modeladmin, request, queryset):
    """Queue the mail again with its retries renewed; whoever may read the outbox may ask for that."""
    count = queryset.update(status=STATUS.queued, scheduled_time=None, number_of_retries=0, last_updated=timezone.now())
    modeladmin.message_user(request, f"{count} mail(s) queued again: they go out within a minute.")


@admin.register(Email)
class OutboxAdmin(EmailAdmin):
    actions = [send_again]
    list_filter = ["status"]
    inlines = [LogInline]  # each try, and why it failed
    change_form_template = "admin/change_form.html"  # post_office's adds a "Resend" link, which we do not serve

    def get_urls(self):
        # Without post_office's HTML preview and inline images (none in plain text) and its "resend" page, which
        # would send from the web request, on a GET.
        return admin.ModelAdmin.get_urls(self)
