"""The domain's tables as they are now (wizard/core/migrations.py builds them)."""
import datetime
import json
import secrets

import peewee
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from wizard.core.crypto import EncryptedField
from wizard.core.db import BaseModel


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Sandbox(BaseModel):
    """A named environment (prod, dev, ...) that scopes every list."""

    name = peewee.CharField(max_length=64)
    name_key = peewee.CharField(max_length=64, unique=True)  # case-folded, for uniqueness
    created_at = peewee.DateTimeField(default=utcnow)
    is_practice = peewee.BooleanField(default=False)  # Twilio calls answered by the simulator, never the network
    version = peewee.IntegerField(default=1)  # optimistic locking of renames

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
    counts_as_sandbox_use = False

    class Meta:
        table_name = "user_account"

    def __str__(self):
        return self.email

    def set_password(self, password: str):
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def hash_password(password: str) -> str:
    # PASSWORD_HASH_METHOD is for tests (a cheap hash); unset, werkzeug's default (scrypt).
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(password, method) if method else generate_password_hash(password)


_DUMMY_HASHES: dict = {}


def password_matches(user: User | None, password: str) -> bool:
    """The user's password check. For no user (an unknown email) the same work is done against a
    dummy hash made with the configured method, so the answer takes as long either way."""
    if user is not None:
        return user.check_password(password)
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = hash_password(secrets.token_urlsafe(16))
    check_password_hash(_DUMMY_HASHES[method], password)
    return False


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


class AdminSession(BaseModel):
    """A signed-in browser. Its cookie holds a random key; the row holds only the key's SHA-256,
    so signing out, removing the admin or changing the password ends it whatever the browser kept."""

    key_hash = peewee.CharField(max_length=64, unique=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="sessions", index=True)
    created_at = peewee.DateTimeField(default=utcnow)
    last_seen_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "admin_session"


class SignInAttempts(BaseModel):
    """The password checks one client has had since `since`, for the per-client limit. One row a
    client, counted up by one atomic statement before each check."""

    client = peewee.CharField(max_length=64, primary_key=True)
    attempts = peewee.IntegerField(default=0)
    since = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "sign_in_attempts"


class ApiCredential(BaseModel):
    """How the platform authenticates to a messaging provider: vendor "twilio", or "custom" (a provider's HTTP API)."""

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
    secondary_auth_token = EncryptedField(null=True)  # accepted on webhooks during token rotation
    webhook_log_only = peewee.BooleanField(default=False)  # accept unsigned webhooks, flagged (rollouts)
    # Vendor "custom": a provider's HTTP API (RCS through Twilio uses this).
    provider_name = peewee.CharField(max_length=128, null=True)
    provider_url = peewee.CharField(max_length=2048, null=True)
    auth_type = peewee.CharField(max_length=16, null=True)  # api_key, basic, bearer, oauth2, hmac, jwt, none
    auth_settings = peewee.TextField(null=True)  # JSON: the auth type's non-secret fields
    auth_secrets = EncryptedField(null=True)  # JSON: passwords, tokens, keys (write-only)
    headers = peewee.TextField(null=True)  # JSON list of [name, value]
    payload_format = peewee.CharField(max_length=8, null=True)  # json, form
    payload_template = peewee.TextField(null=True)
    oauth_token = EncryptedField(null=True)  # cached OAuth 2.0 access token
    oauth_expires_at = peewee.DateTimeField(null=True)

    kind = _l("API credential")
    SECRET_FIELDS = ("auth_token", "secondary_auth_token", "auth_secrets", "oauth_token")

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
    # The unguessable id in this credential-and-sandbox's webhook URLs.
    webhook_key = peewee.CharField(max_length=32, unique=True, default=lambda: secrets.token_urlsafe(18))

    kind = _l("API credential")

    class Meta:
        table_name = "credential_number"
        indexes = ((("credential", "sandbox"), True),)

    def __str__(self):
        return f"{self.credential.name} ({self.phone_number})"


class ChannelConfiguration(BaseModel):
    """What a journey sends through: channel, SMS type, credential and sender number."""

    name = peewee.CharField(max_length=128)
    name_key = peewee.CharField(max_length=128)  # case-folded: unique in its sandbox (Meta)
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
        indexes = ((("sandbox", "name_key"), True),)  # names are unique per sandbox (migration 0011)

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


class CustomWebhook(BaseModel):
    """A custom provider's webhook: its sample payload, with placeholders, is the shape to read."""

    name = peewee.CharField(max_length=128)
    name_key = peewee.CharField(max_length=128)  # case-folded: unique in its sandbox (Meta)
    type = peewee.CharField(max_length=16)  # inbound, feedback
    credential = peewee.ForeignKeyField(ApiCredential, null=True, on_delete="RESTRICT", backref="custom_webhooks")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="RESTRICT", backref="custom_webhooks")
    sender_number = peewee.CharField(max_length=16, default="")
    payload = peewee.TextField()
    key = peewee.CharField(max_length=32, unique=True, default=lambda: secrets.token_urlsafe(18))
    hmac_secret = EncryptedField(null=True)
    hmac_header = peewee.CharField(max_length=64, default="X-Signature")
    version = peewee.IntegerField(default=1)
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    kind = _l("Webhook")
    SECRET_FIELDS = ("hmac_secret",)

    class Meta:
        table_name = "custom_webhook"
        indexes = ((("sandbox", "name_key"), True),)  # names are unique per sandbox (migration 0011)

    def __str__(self):
        return self.name


class InboundMessage(BaseModel):
    """A message a person sent to one of our numbers, as the provider delivered it."""

    credential = peewee.ForeignKeyField(ApiCredential, null=True, on_delete="SET NULL")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="CASCADE")
    custom_webhook = peewee.ForeignKeyField(CustomWebhook, null=True, on_delete="SET NULL")
    source = peewee.CharField(max_length=16, default="twilio")  # twilio, custom
    message_sid = peewee.CharField(max_length=64, index=True)
    from_number = peewee.CharField(max_length=32, index=True)
    to_number = peewee.CharField(max_length=32)
    body = peewee.TextField(default="")
    media = peewee.TextField(default="[]")  # [{"url": ..., "content_type": ...}]
    num_segments = peewee.IntegerField(null=True)
    params = peewee.TextField(default="{}")  # every parameter as received
    signed = peewee.BooleanField(default=True)  # False: accepted unsigned by the log-only switch
    keyword_category = peewee.CharField(max_length=16, null=True)
    reply = peewee.TextField(null=True)
    received_at = peewee.DateTimeField(default=utcnow, index=True)

    counts_as_sandbox_use = False  # history, deleted with its sandbox

    class Meta:
        table_name = "inbound_message"
        # Also unique: (sandbox, message_sid) of Twilio's messages, a partial index (migration 0009).
        indexes = ((("custom_webhook", "message_sid"), True),)


class StatusEvent(BaseModel):
    """One delivery-status callback; the same message and status is stored once."""

    credential = peewee.ForeignKeyField(ApiCredential, null=True, on_delete="SET NULL")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="CASCADE")
    custom_webhook = peewee.ForeignKeyField(CustomWebhook, null=True, on_delete="SET NULL")
    source = peewee.CharField(max_length=16, default="twilio")
    message_sid = peewee.CharField(max_length=64)
    status = peewee.CharField(max_length=32)
    error_code = peewee.CharField(max_length=16, null=True)
    params = peewee.TextField(default="{}")
    signed = peewee.BooleanField(default=True)
    received_at = peewee.DateTimeField(default=utcnow, index=True)

    counts_as_sandbox_use = False

    class Meta:
        table_name = "status_event"
        indexes = ((("message_sid", "status"), True),)


class OutboundMessage(BaseModel):
    """A message we sent, with its latest status (callbacks never move it backwards)."""

    credential = peewee.ForeignKeyField(ApiCredential, null=True, on_delete="SET NULL")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="CASCADE")
    message_sid = peewee.CharField(max_length=64, unique=True)
    to_number = peewee.CharField(max_length=32, default="")
    status = peewee.CharField(max_length=32)
    error_code = peewee.CharField(max_length=16, null=True)
    updated_at = peewee.DateTimeField(default=utcnow)
    body = peewee.TextField(default="")  # what we sent ("" when a callback told us of the message first)

    counts_as_sandbox_use = False

    class Meta:
        table_name = "outbound_message"


class KeywordSettings(BaseModel):
    """Per credential and sandbox: the default reply and the opt-out switches."""

    credential = peewee.ForeignKeyField(ApiCredential, on_delete="CASCADE")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="CASCADE")
    default_reply = peewee.TextField(default="")
    fuzzy_opt_out = peewee.BooleanField(default=False)
    fuzzy_reply = peewee.TextField(default="")
    advanced_opt_out = peewee.BooleanField(default=False)  # Twilio already replies to standard keywords
    version = peewee.IntegerField(default=1)  # optimistic locking for concurrent edits

    counts_as_sandbox_use = False
    kind = _l("Keyword settings")

    class Meta:
        table_name = "keyword_settings"
        indexes = ((("credential", "sandbox"), True),)

    def __str__(self):
        return f"{self.credential.name} · {self.sandbox.name}"


class KeywordRule(BaseModel):
    """Keywords of one category and the reply they get."""

    credential = peewee.ForeignKeyField(ApiCredential, on_delete="CASCADE", backref="keyword_rules")
    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="CASCADE")
    category = peewee.CharField(max_length=16)  # opt_in, opt_out, double_opt_in, help, custom
    keywords = peewee.TextField()  # JSON list, upper-cased
    reply = peewee.TextField(default="")
    position = peewee.IntegerField(default=0)
    version = peewee.IntegerField(default=1)  # optimistic locking for concurrent edits

    counts_as_sandbox_use = False
    kind = _l("Keyword rule")

    class Meta:
        table_name = "keyword_rule"

    @property
    def keyword_list(self) -> list[str]:
        return json.loads(self.keywords or "[]")

    def __str__(self):
        return f"{self.credential.name} · {self.sandbox.name} · {', '.join(self.keyword_list)}"


class Consent(BaseModel):
    """Where one phone number stands in one sandbox: opted in, opted out, or pending."""

    sandbox = peewee.ForeignKeyField(Sandbox, on_delete="CASCADE")
    phone_number = peewee.CharField(max_length=32)
    state = peewee.CharField(max_length=16)  # opted_in, opted_out, pending
    since = peewee.DateTimeField(default=utcnow)

    counts_as_sandbox_use = False

    class Meta:
        table_name = "consent"
        indexes = ((("sandbox", "phone_number"), True),)


class ConsentEvent(BaseModel):
    consent = peewee.ForeignKeyField(Consent, on_delete="CASCADE", backref="history")
    state = peewee.CharField(max_length=16)
    at = peewee.DateTimeField(default=utcnow)
    source = peewee.CharField(max_length=255, default="")  # e.g. "STOP (SM...)"

    class Meta:
        table_name = "consent_event"


# The practice sandboxes' simulated Twilio (wizard/providers/twilio/practice_store.py).


class PracticeWorld(BaseModel):
    """The simulated Twilio's accounts and what hangs off them, as one JSON document (one row)."""

    id = peewee.IntegerField(primary_key=True)
    document = peewee.TextField()

    class Meta:
        table_name = "practice_world"


class PracticeMessage(BaseModel):
    sid = peewee.CharField(max_length=34, primary_key=True)
    document = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "practice_message"


class PracticeStatusChange(BaseModel):
    """A simulated message's next status, due at `due_at` (epoch seconds); `claim` and `claimed_until`
    say which process took it to apply, and until when no other may."""

    message_sid = peewee.CharField(max_length=34)
    status = peewee.CharField(max_length=16)
    due_at = peewee.DoubleField(index=True)
    generation = peewee.IntegerField()
    claim = peewee.CharField(max_length=32, null=True)
    claimed_until = peewee.DoubleField(null=True)

    class Meta:
        table_name = "practice_status_change"
