"""The consent register's writes: a number's state and its history, changed in the caller's
transaction."""
import peewee

from wizard.core.db import database
from wizard.core.models import Consent, ConsentEvent, utcnow


def _consent_for_update(sandbox_id, phone_number) -> Consent | None:
    query = Consent.select().where(Consent.sandbox == sandbox_id, Consent.phone_number == phone_number)
    if database.for_update:  # PostgreSQL: two messages from one number queue up; SQLite writes one at a time
        query = query.for_update()
    return query.first()


def record_consent(sandbox_id, phone_number: str, state: str, source: str, consent: Consent | None = None) -> Consent:
    """Move a number to `state` now and add the step to its history."""
    now = utcnow()
    if consent is None:
        try:
            with database.atomic():  # a savepoint: a concurrent first message leaves the transaction usable
                consent = Consent.create(sandbox=sandbox_id, phone_number=phone_number, state=state, since=now)
        except peewee.IntegrityError:
            consent = _consent_for_update(sandbox_id, phone_number)
    if consent.state != state:
        consent.state, consent.since = state, now
        consent.save()
    ConsentEvent.create(consent=consent, state=state, at=now, source=source)
    return consent
