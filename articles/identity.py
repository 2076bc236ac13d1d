"""What approvals, sign-offs and snapshots are pinned to: hashes of canonical data, each with its version.

An approval is pinned to its statement's hash (citations.statement_hash: the words and the keys cited) and to
the hash of the cited references' records (`references_hash`); a sign-off, and the snapshot published on it,
to the hash of everything patients see of the article (`content_hash`). Each approval, sign-off and snapshot
stores the `HASH_VERSION` it was made under, in `hash_version`:

- 1: each cited reference as its AMA-formatted string; not the byline, the address or the review interval.
- 2 (issue 13): each cited reference's whole record as a reviewer judges it (`Reference.pinned_record`:
  abstract, publication type and retraction included), the byline, the address and the review interval. No
  formatting is hashed, so a change to the AMA formatter withdraws nothing. Since issue 15 it also covers a
  correction note when one is set; a blank note adds nothing to the payload, so every hash made before is
  unchanged and this needed no new version.

An approval or sign-off made under an earlier version never counts (nobody reviewed what the later version
covers); the desk says so. A snapshot keeps its version, so "is the working copy what patients see?" is asked
in the snapshot's own terms. Changing what a hash covers means a new version here, a migration that says what
happens to the records made before, and new fixed expectations in tests/test_identity.py.
"""

import hashlib
import json

HASH_VERSION = 2


def _digest(payload, *, sort_keys: bool = True, ensure_ascii: bool = False) -> str:
    text = json.dumps(payload, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
    return hashlib.sha256(text.encode()).hexdigest()


def references_hash(keys, references: dict, *, version: int | None = None) -> str:
    """Return the hash of the references that `keys` cite; `references` maps keys to Reference objects.
    `version`: the current one unless given."""
    keys = sorted(set(keys))
    if (version or HASH_VERSION) == 1:
        return _digest([[key, references[key].ama if key in references else ""] for key in keys], sort_keys=False)
    records = [[key, references[key].pinned_record() if key in references else None] for key in keys]
    return _digest({"v": 2, "references": records})


def content_hash(visible: dict, *, version: int | None = None) -> str:
    """Return the hash a sign-off is pinned to: the article as patients see it. `visible` maps each hashed entry
    of patient_visible.VISIBLE to its value (patient_visible.hashed), "references" to the cited Reference objects
    in citation order. `version`: the current one unless given."""
    references = visible["references"]
    if (version or HASH_VERSION) == 1:
        payload = {
            "title": visible["title"],
            "summary": visible["summary"],
            "body": visible["body"],
            "topics": sorted(visible["topics"]),
            "references": [reference.ama for reference in references],
        }
        if visible["drafted_with_ai"]:
            payload["drafted_with_ai"] = True
        return _digest(payload, ensure_ascii=True)
    return _digest({**visible, "v": 2, "references": [reference.pinned_record() for reference in references]})
