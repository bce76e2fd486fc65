"""Reading rows back as the app stored them (each in an app context and connection of its own)."""
import json

from wizard.core.db import database
from wizard.core.models import ApiCredential, AuditEntry, Sandbox


def sandbox_id(app, name) -> int:
    with app.app_context(), database.connection_context():
        sandbox = Sandbox.get_or_none(Sandbox.name == name) or Sandbox.create(name=name, name_key=name)
        return sandbox.id


def audit_entries(app, object_type="ApiCredential") -> list[AuditEntry]:
    with app.app_context(), database.connection_context():
        return list(AuditEntry.select().where(AuditEntry.object_type == object_type).order_by(AuditEntry.id))


def stored(app, credential_id) -> ApiCredential | None:
    with app.app_context(), database.connection_context():
        credential = ApiCredential.get_or_none(ApiCredential.id == credential_id)
        if credential is not None:
            credential.stored_numbers = {n.sandbox.name: n.phone_number for n in credential.numbers}
            credential.secrets = json.loads(credential.auth_secrets or "{}")
        return credential
