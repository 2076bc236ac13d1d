"""Stamp approvals, sign-offs and snapshots with the version of the hashes they are pinned to (identity.py).

Every record made before this migration is version 1: its hashes covered each cited reference's AMA string,
and not the byline, the address, the review interval or a reference's abstract, publication type or
retraction. What that means for them (workflow.review_status):
- approvals and sign-offs of version 1 no longer count. The desk lists each signed-off or scheduled article
  under "A cited reference changed after sign-off"; a reviewer approves its statements again, reading the
  references, and signs off again, with no send-back while its words are unchanged. Publishing is refused
  until then, saying why;
- live pages stay as they are, and a version-1 snapshot is compared with the working copy in version 1's
  terms, so no live article looks edited because of the upgrade.
The columns are added with the value 1 for existing rows (no row is updated, so the append-only triggers
are not involved); new records take identity.HASH_VERSION.
"""

from django.db import migrations, models


def version_field(default: int):
    return models.PositiveSmallIntegerField(
        default=default, editable=False, help_text="Version of its hashes (identity.py)."
    )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0013_text_length_limits"),
    ]

    operations = [
        *(
            operation
            for model in ("statementapproval", "reviewsignoff", "publishedsnapshot")
            for operation in (
                migrations.AddField(model_name=model, name="hash_version", field=version_field(1)),
                migrations.AlterField(model_name=model, name="hash_version", field=version_field(2)),
            )
        ),
    ]
