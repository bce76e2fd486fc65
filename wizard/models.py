"""The domain's tables as they are now (wizard/migrations.py builds them)."""
import datetime
import json

import peewee
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from wizard.db import BaseModel


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Sandbox(BaseModel):
    """A named environment (prod, dev, ...) that scopes every list."""

    name = peewee.CharField(max_length=64)
    name_key = peewee.CharField(max_length=64, unique=True)  # case-folded, for uniqueness
    created_at = peewee.DateTimeField(default=utcnow)

    kind = _l("Sandbox")

    class Meta:
        table_name = "sandbox"

    def __str__(self):
        return self.name

    @staticmethod
    def key_for(name: str) -> str:
        return name.strip().casefold()


class User(BaseModel):
    """An administrator of the setup."""

    email = peewee.CharField(max_length=254, unique=True)
    password_hash = peewee.CharField(max_length=255)
    created_at = peewee.DateTimeField(default=utcnow)
    sandbox = peewee.ForeignKeyField(Sandbox, null=True, on_delete="SET NULL", backref="chosen_by")
    language = peewee.CharField(max_length=16, null=True)

    kind = _l("Admin")
    # A user's chosen sandbox is a preference, not a use that blocks deleting it.
    sandbox_preference = True

    class Meta:
        table_name = "user_account"

    def __str__(self):
        return self.email

    def set_password(self, password: str):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class AuditEntry(BaseModel):
    """Who changed which configuration object, when, and which fields (never secret values)."""

    at = peewee.DateTimeField(default=utcnow, index=True)
    actor = peewee.CharField(max_length=254)
    action = peewee.CharField(max_length=16)  # create, update, delete
    object_type = peewee.CharField(max_length=64, index=True)
    object_id = peewee.IntegerField()
    object_label = peewee.CharField(max_length=255)
    changes = peewee.TextField(default="{}")

    class Meta:
        table_name = "audit_entry"

    @property
    def changed_fields(self) -> dict:
        return json.loads(self.changes or "{}")


class FailedLogin(BaseModel):
    """One failed sign-in, kept for the per-client rate limit."""

    client = peewee.CharField(max_length=64, index=True)
    at = peewee.DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "failed_login"
