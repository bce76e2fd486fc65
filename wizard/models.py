"""The domain's tables as they are now (wizard/migrations.py builds them)."""
import datetime
import json

import peewee
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from wizard.crypto import EncryptedField
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


class ApiCredential(BaseModel):
    """How the platform authenticates to a messaging provider; vendor "twilio" for now."""

    name = peewee.CharField(max_length=128)
    name_key = peewee.CharField(max_length=128, unique=True)  # case-folded, for uniqueness
    vendor = peewee.CharField(max_length=16, default="twilio")
    account_sid = peewee.CharField(max_length=34, null=True)
    auth_token = EncryptedField(null=True)  # write-only: never rendered back
    auth_token_last4 = peewee.CharField(max_length=4, null=True)  # lists mask the token by it
    messaging_service_sid = peewee.CharField(max_length=34, null=True)
    account_name = peewee.CharField(max_length=255, null=True)
    account_type = peewee.CharField(max_length=16, null=True)
    verification_state = peewee.CharField(max_length=16, default="never")  # never, verified, failed
    verified_at = peewee.DateTimeField(null=True)
    verification_error = peewee.TextField(null=True)
    version = peewee.IntegerField(default=1)  # optimistic locking for concurrent edits
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    kind = _l("API credential")
    SECRET_FIELDS = ("auth_token",)

    class Meta:
        table_name = "api_credential"

    def __str__(self):
        return self.name

    @property
    def masked_token(self) -> str:
        return f"••••{self.auth_token_last4}" if self.auth_token_last4 else ""

    def set_auth_token(self, token: str):
        self.auth_token, self.auth_token_last4 = token, token[-4:]

    def numbers_by_sandbox(self) -> dict[int, str]:
        return {n.sandbox_id: n.phone_number for n in self.numbers}


class CredentialNumber(BaseModel):
    """The incoming number a credential uses in one sandbox."""

    credential = peewee.ForeignKeyField(ApiCredential, on_delete="CASCADE", backref="numbers")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="RESTRICT", backref="credential_numbers")
    phone_number = peewee.CharField(max_length=16)

    kind = _l("API credential")

    class Meta:
        table_name = "credential_number"
        indexes = ((("credential", "sandbox"), True),)

    def __str__(self):
        return f"{self.credential.name} ({self.phone_number})"


class ChannelConfiguration(BaseModel):
    """What a journey sends through: channel, SMS type, credential and sender number."""

    name = peewee.CharField(max_length=128)
    name_key = peewee.CharField(max_length=128, unique=True)
    description = peewee.TextField(default="")
    channel = peewee.CharField(max_length=8, default="sms")  # sms (SMS/MMS), rcs
    sms_type = peewee.CharField(max_length=16)  # marketing, transactional
    credential = peewee.ForeignKeyField(ApiCredential, on_delete="RESTRICT", backref="channel_configurations")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="RESTRICT", backref="channel_configurations")
    sender_number = peewee.CharField(max_length=16)
    subdomain = peewee.CharField(max_length=253, default="")
    execution_field = peewee.CharField(max_length=255, default="mobilePhone.number")
    status = peewee.CharField(max_length=16, default="draft")  # draft, active
    status_reason = peewee.TextField(null=True)
    version = peewee.IntegerField(default=1)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    kind = _l("Channel configuration")

    class Meta:
        table_name = "channel_configuration"

    def __str__(self):
        return self.name


class GuidedRun(BaseModel):
    """One admin's unfinished walk through a guided flow; two browser tabs are two runs.

    The draft (every step's input, secrets included) is stored encrypted as a whole.
    """

    token = peewee.CharField(max_length=32, unique=True)  # the run's id in its URLs
    flow = peewee.CharField(max_length=32)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="guided_runs")
    label = peewee.CharField(max_length=255, default="")
    step = peewee.CharField(max_length=32)
    draft = EncryptedField()
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "guided_run"

    @property
    def data(self) -> dict:
        return json.loads(self.draft or "{}")

    @data.setter
    def data(self, value: dict):
        self.draft = json.dumps(value, ensure_ascii=False)
