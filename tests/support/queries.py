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


def edit_data(app, credential_id, numbers=None, **changes) -> dict:
    """The edit form as the page fills it in, with `changes` typed over it; numbers: {sandbox: E.164}."""
    credential = stored(app, credential_id)
    data = {"name": credential.name, "account_sid": credential.account_sid, "auth_token": "",
            "messaging_service_sid": credential.messaging_service_sid, "version": str(credential.version)}
    for name, number in (credential.stored_numbers if numbers is None else numbers).items():
        data[f"use_{sandbox_id(app, name)}"] = "y"
        data[f"number_{sandbox_id(app, name)}"] = number
    data.update(changes)
    return data
