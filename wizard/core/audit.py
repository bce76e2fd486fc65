"""The audit trail every change writes: record() one entry, diff() two snapshots. Secrets are never
written, only that they changed."""
import json

from flask import g

from wizard.core.models import AuditEntry

SECRET_MARK = "(secret changed)"


def record(action: str, obj, changes: dict | None = None, secret_fields=()):
    """Write one entry for `obj`; call it inside the same transaction as the change.

    `changes` maps field -> [before, after]; a secret field records only that it changed.
    """
    changes = dict(changes or {})
    for field in secret_fields:
        if field in changes:
            changes[field] = SECRET_MARK
    user = g.get("user")
    AuditEntry.create(
        actor=user.email if user is not None else "system",
        action=action,
        object_type=type(obj).__name__,
        object_id=obj.id,
        object_label=str(obj)[:255],
        changes=json.dumps(changes, default=str, ensure_ascii=False),
    )


def diff(before: dict, after: dict) -> dict:
    """The fields whose value differs, as field -> [before, after]."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
