"""Versioned schema migrations.

Each migration freezes the tables it creates as they were at that version, so a
database made by an older release upgrades step by step without losing rows, on
SQLite and PostgreSQL alike. Add a new function at the end; never edit an old one."""
import datetime
import secrets
from contextlib import contextmanager

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate


def _now():
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _frozen(db, table, **fields):
    meta = type("Meta", (), {"database": db, "table_name": table})
    return type(table, (peewee.Model,), {"Meta": meta, **fields})


def _migrator(db):
    real = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    return PostgresqlMigrator(real) if isinstance(real, peewee.PostgresqlDatabase) else SqliteMigrator(real)


def m0001_accounts_and_sandboxes(db):
    user = _frozen(
        db,
        "user_account",
        email=peewee.CharField(max_length=254, unique=True),
        password_hash=peewee.CharField(max_length=255),
        created_at=peewee.DateTimeField(default=_now),
    )
    sandbox = _frozen(
        db,
        "sandbox",
        name=peewee.CharField(max_length=64),
        name_key=peewee.CharField(max_length=64, unique=True),
        created_at=peewee.DateTimeField(default=_now),
    )
    db.create_tables([user, sandbox])
    sandbox.create(name="prod", name_key="prod")


def m0002_audit_log_and_login_throttle(db):
    audit = _frozen(
        db,
        "audit_entry",
        at=peewee.DateTimeField(default=_now, index=True),
        actor=peewee.CharField(max_length=254),
        action=peewee.CharField(max_length=16),
        object_type=peewee.CharField(max_length=64, index=True),
        object_id=peewee.IntegerField(),
        object_label=peewee.CharField(max_length=255),
        changes=peewee.TextField(default="{}"),
    )
    failed = _frozen(
        db,
        "failed_login",
        client=peewee.CharField(max_length=64, index=True),
        at=peewee.DateTimeField(default=_now, index=True),
    )
    db.create_tables([audit, failed])


def m0003_user_preferences(db):
    sandbox = _frozen(db, "sandbox", name=peewee.CharField())
    migrator = _migrator(db)
    migrate(
        migrator.add_column(
            "user_account",
            "sandbox_id",
            peewee.ForeignKeyField(sandbox, null=True, on_delete="SET NULL", field=sandbox.id),
        ),
        migrator.add_column("user_account", "language", peewee.CharField(max_length=16, null=True)),
    )


def m0004_credentials_channels_and_guided_runs(db):
    user = _frozen(db, "user_account", email=peewee.CharField())
    sandbox = _frozen(db, "sandbox", name=peewee.CharField())
    credential = _frozen(
        db,
        "api_credential",
        name=peewee.CharField(max_length=128),
        name_key=peewee.CharField(max_length=128, unique=True),
        vendor=peewee.CharField(max_length=16, default="twilio"),
        account_sid=peewee.CharField(max_length=34, null=True),
        auth_token=peewee.TextField(null=True),
        auth_token_last4=peewee.CharField(max_length=4, null=True),
        messaging_service_sid=peewee.CharField(max_length=34, null=True),
        account_name=peewee.CharField(max_length=255, null=True),
        account_type=peewee.CharField(max_length=16, null=True),
        verification_state=peewee.CharField(max_length=16, default="never"),
        verified_at=peewee.DateTimeField(null=True),
        verification_error=peewee.TextField(null=True),
        version=peewee.IntegerField(default=1),
        created_at=peewee.DateTimeField(default=_now),
        updated_at=peewee.DateTimeField(default=_now),
    )
    number = _frozen(
        db,
        "credential_number",
        credential=peewee.ForeignKeyField(credential, on_delete="CASCADE", field=credential.id),
        sandbox=peewee.ForeignKeyField(sandbox, on_delete="RESTRICT", field=sandbox.id),
        phone_number=peewee.CharField(max_length=16),
    )
    number._meta.indexes = [(("credential", "sandbox"), True)]
    channel = _frozen(
        db,
        "channel_configuration",
        name=peewee.CharField(max_length=128),
        name_key=peewee.CharField(max_length=128, unique=True),
        description=peewee.TextField(default=""),
        channel=peewee.CharField(max_length=8, default="sms"),
        sms_type=peewee.CharField(max_length=16),
        credential=peewee.ForeignKeyField(credential, on_delete="RESTRICT", field=credential.id),
        sandbox=peewee.ForeignKeyField(sandbox, on_delete="RESTRICT", field=sandbox.id),
        sender_number=peewee.CharField(max_length=16),
        subdomain=peewee.CharField(max_length=253, default=""),
        execution_field=peewee.CharField(max_length=255, default="mobilePhone.number"),
        status=peewee.CharField(max_length=16, default="draft"),
        status_reason=peewee.TextField(null=True),
        version=peewee.IntegerField(default=1),
        created_at=peewee.DateTimeField(default=_now),
        updated_at=peewee.DateTimeField(default=_now),
    )
    run = _frozen(
        db,
        "guided_run",
        token=peewee.CharField(max_length=32, unique=True),
        flow=peewee.CharField(max_length=32),
        user=peewee.ForeignKeyField(user, on_delete="CASCADE", field=user.id),
        label=peewee.CharField(max_length=255, default=""),
        step=peewee.CharField(max_length=32),
        draft=peewee.TextField(),
        created_at=peewee.DateTimeField(default=_now),
        updated_at=peewee.DateTimeField(default=_now),
    )
    db.create_tables([credential, number, channel, run])


def m0005_webhooks_keywords_consent_events(db):

    sandbox = _frozen(db, "sandbox", name=peewee.CharField())
    credential = _frozen(db, "api_credential", name=peewee.CharField())
    number = _frozen(db, "credential_number", phone_number=peewee.CharField())
    migrator = _migrator(db)
    migrate(
        migrator.add_column("api_credential", "secondary_auth_token", peewee.TextField(null=True)),
        migrator.add_column("api_credential", "webhook_log_only", peewee.BooleanField(default=False)),
        migrator.add_column("credential_number", "webhook_key", peewee.CharField(max_length=32, null=True)),
    )
    for row in number.select(number.id):  # numbers saved before webhooks existed get their key now
        number.update(webhook_key=secrets.token_urlsafe(18)).where(number.id == row.id).execute()
    migrate(migrator.add_index("credential_number", ("webhook_key",), True))

    custom = _frozen(
        db,
        "custom_webhook",
        name=peewee.CharField(max_length=128),
        name_key=peewee.CharField(max_length=128, unique=True),
        type=peewee.CharField(max_length=16),
        credential=peewee.ForeignKeyField(credential, null=True, on_delete="RESTRICT", field=credential.id),
        sandbox=peewee.ForeignKeyField(sandbox, on_delete="RESTRICT", field=sandbox.id),
        sender_number=peewee.CharField(max_length=16, default=""),
        payload=peewee.TextField(),
        key=peewee.CharField(max_length=32, unique=True),
        hmac_secret=peewee.TextField(null=True),
        hmac_header=peewee.CharField(max_length=64, default="X-Signature"),
        version=peewee.IntegerField(default=1),
        created_at=peewee.DateTimeField(default=_now),
        updated_at=peewee.DateTimeField(default=_now),
    )
    common = dict(
        credential=lambda: peewee.ForeignKeyField(credential, null=True, on_delete="SET NULL", field=credential.id),
        sandbox=lambda: peewee.ForeignKeyField(sandbox, on_delete="CASCADE", field=sandbox.id),
        custom_webhook=lambda: peewee.ForeignKeyField(custom, null=True, on_delete="SET NULL", field=custom.id),
    )
    inbound = _frozen(
        db,
        "inbound_message",
        credential=common["credential"](),
        sandbox=common["sandbox"](),
        custom_webhook=common["custom_webhook"](),
        source=peewee.CharField(max_length=16, default="twilio"),
        message_sid=peewee.CharField(max_length=64, index=True),
        from_number=peewee.CharField(max_length=32, index=True),
        to_number=peewee.CharField(max_length=32),
        body=peewee.TextField(default=""),
        media=peewee.TextField(default="[]"),
        num_segments=peewee.IntegerField(null=True),
        params=peewee.TextField(default="{}"),
        signed=peewee.BooleanField(default=True),
        keyword_category=peewee.CharField(max_length=16, null=True),
        reply=peewee.TextField(null=True),
        received_at=peewee.DateTimeField(default=_now, index=True),
    )
    status = _frozen(
        db,
        "status_event",
        credential=common["credential"](),
        sandbox=common["sandbox"](),
        custom_webhook=common["custom_webhook"](),
        source=peewee.CharField(max_length=16, default="twilio"),
        message_sid=peewee.CharField(max_length=64),
        status=peewee.CharField(max_length=32),
        error_code=peewee.CharField(max_length=16, null=True),
        params=peewee.TextField(default="{}"),
        signed=peewee.BooleanField(default=True),
        received_at=peewee.DateTimeField(default=_now, index=True),
    )
    status._meta.indexes = [(("message_sid", "status"), True)]
    outbound = _frozen(
        db,
        "outbound_message",
        credential=common["credential"](),
        sandbox=common["sandbox"](),
        message_sid=peewee.CharField(max_length=64, unique=True),
        to_number=peewee.CharField(max_length=32, default=""),
        status=peewee.CharField(max_length=32),
        error_code=peewee.CharField(max_length=16, null=True),
        updated_at=peewee.DateTimeField(default=_now),
    )
    settings = _frozen(
        db,
        "keyword_settings",
        credential=peewee.ForeignKeyField(credential, on_delete="CASCADE", field=credential.id),
        sandbox=peewee.ForeignKeyField(sandbox, on_delete="CASCADE", field=sandbox.id),
        default_reply=peewee.TextField(default=""),
        fuzzy_opt_out=peewee.BooleanField(default=False),
        fuzzy_reply=peewee.TextField(default=""),
        advanced_opt_out=peewee.BooleanField(default=False),
    )
    settings._meta.indexes = [(("credential", "sandbox"), True)]
    rule = _frozen(
        db,
        "keyword_rule",
        credential=peewee.ForeignKeyField(credential, on_delete="CASCADE", field=credential.id),
        sandbox=peewee.ForeignKeyField(sandbox, on_delete="CASCADE", field=sandbox.id),
        category=peewee.CharField(max_length=16),
        keywords=peewee.TextField(),
        reply=peewee.TextField(default=""),
        position=peewee.IntegerField(default=0),
    )
    consent = _frozen(
        db,
        "consent",
        sandbox=peewee.ForeignKeyField(sandbox, on_delete="CASCADE", field=sandbox.id),
        phone_number=peewee.CharField(max_length=32),
        state=peewee.CharField(max_length=16),
        since=peewee.DateTimeField(default=_now),
    )
    consent._meta.indexes = [(("sandbox", "phone_number"), True)]
    history = _frozen(
        db,
        "consent_event",
        consent=peewee.ForeignKeyField(consent, on_delete="CASCADE", field=consent.id),
        state=peewee.CharField(max_length=16),
        at=peewee.DateTimeField(default=_now),
        source=peewee.CharField(max_length=255, default=""),
    )
    db.create_tables([custom, inbound, status, outbound, settings, rule, consent, history])


def m0006_custom_provider_credentials(db):
    migrator = _migrator(db)
    migrate(
        migrator.add_column("api_credential", "provider_name", peewee.CharField(max_length=128, null=True)),
        migrator.add_column("api_credential", "provider_url", peewee.CharField(max_length=2048, null=True)),
        migrator.add_column("api_credential", "auth_type", peewee.CharField(max_length=16, null=True)),
        migrator.add_column("api_credential", "auth_settings", peewee.TextField(null=True)),
        migrator.add_column("api_credential", "auth_secrets", peewee.TextField(null=True)),
        migrator.add_column("api_credential", "headers", peewee.TextField(null=True)),
        migrator.add_column("api_credential", "payload_format", peewee.CharField(max_length=8, null=True)),
        migrator.add_column("api_credential", "payload_template", peewee.TextField(null=True)),
        migrator.add_column("api_credential", "oauth_token", peewee.TextField(null=True)),
        migrator.add_column("api_credential", "oauth_expires_at", peewee.DateTimeField(null=True)),
    )


def m0007_practice_sandboxes_and_custom_retries(db):
    migrator = _migrator(db)
    migrate(
        migrator.add_column("sandbox", "is_practice", peewee.BooleanField(default=False)),
        # A custom provider's retry of the same request is stored once.
        migrator.add_index("inbound_message", ("custom_webhook_id", "message_sid"), True),
    )


def m0008_server_side_sessions_and_sign_in_attempts(db):
    user = _frozen(db, "user_account", email=peewee.CharField())
    admin_session = _frozen(
        db,
        "admin_session",
        key_hash=peewee.CharField(max_length=64, unique=True),
        user=peewee.ForeignKeyField(user, on_delete="CASCADE", field=user.id, index=True),
        created_at=peewee.DateTimeField(default=_now),
        last_seen_at=peewee.DateTimeField(default=_now),
    )
    attempts = _frozen(
        db,
        "sign_in_attempts",
        client=peewee.CharField(max_length=64, primary_key=True),
        attempts=peewee.IntegerField(default=0),
        since=peewee.DateTimeField(default=_now),
    )
    db.create_tables([admin_session, attempts])
    # One counter row a client replaces one row a failure: counting rows could not be made atomic.
    _frozen(db, "failed_login").drop_table(safe=True)


def m0009_twilio_retries_once_and_edit_versions(db):
    # Twilio's retries of an inbound message were stored each time: keep the first of each.
    db.execute_sql(
        "DELETE FROM inbound_message WHERE source = 'twilio' AND message_sid <> '' AND id NOT IN ("
        "SELECT MIN(id) FROM inbound_message WHERE source = 'twilio' AND message_sid <> '' "
        "GROUP BY sandbox_id, message_sid)"
    )
    # From now on a retry (same MessageSid in the same sandbox) is stored once.
    db.execute_sql(
        "CREATE UNIQUE INDEX inbound_message_twilio_once ON inbound_message (sandbox_id, message_sid) "
        "WHERE source = 'twilio' AND message_sid <> ''"
    )
    # Optimistic locking of edits, as credentials and channel configurations have. Plain SQL:
    # peewee's SQLite migrator makes a NOT NULL column by copying the table, and dropping the
    # old sandbox table would cascade to every row that belongs to a sandbox.
    for table in ("keyword_rule", "keyword_settings", "sandbox"):
        db.execute_sql(f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT 1")


def m0010_outbound_message_text(db):
    # The text of a message we sent (a test message), so its status rows can say what it was.
    db.execute_sql("ALTER TABLE outbound_message ADD COLUMN body TEXT NOT NULL DEFAULT ''")


def m0011_names_unique_per_sandbox(db):
    # Sandboxes are separate environments: prod and dev may each have a channel configuration or a
    # custom webhook of the same name (an import from prod into dev keeps its names). Index
    # changes only: neither SQLite nor PostgreSQL copies the table for them.
    migrator = _migrator(db)
    for table in ("channel_configuration", "custom_webhook"):
        migrate(
            migrator.drop_index(table, f"{table}_name_key"),
            migrator.add_index(table, ("sandbox_id", "name_key"), True),
        )


def m0012_practice_state(db):
    # The practice sandboxes' simulated Twilio, shared by every process: its world (accounts and what
    # hangs off them) as one JSON document, its messages, and their pending status changes.
    world = _frozen(
        db,
        "practice_world",
        id=peewee.IntegerField(primary_key=True),  # one row: id 1
        document=peewee.TextField(),
    )
    message = _frozen(
        db,
        "practice_message",
        sid=peewee.CharField(max_length=34, primary_key=True),
        document=peewee.TextField(),
        created_at=peewee.DateTimeField(default=_now),
    )
    change = _frozen(
        db,
        "practice_status_change",
        message_sid=peewee.CharField(max_length=34),
        status=peewee.CharField(max_length=16),
        due_at=peewee.DoubleField(index=True),  # wall-clock epoch seconds: processes share no other clock
        generation=peewee.IntegerField(),
        claim=peewee.CharField(max_length=32, null=True),
        claimed_until=peewee.DoubleField(null=True),
    )
    db.create_tables([world, message, change])


MIGRATIONS = [
    ("0001_accounts_and_sandboxes", m0001_accounts_and_sandboxes),
    ("0002_audit_log_and_login_throttle", m0002_audit_log_and_login_throttle),
    ("0003_user_preferences", m0003_user_preferences),
    ("0004_credentials_channels_and_guided_runs", m0004_credentials_channels_and_guided_runs),
    ("0005_webhooks_keywords_consent_events", m0005_webhooks_keywords_consent_events),
    ("0006_custom_provider_credentials", m0006_custom_provider_credentials),
    ("0007_practice_sandboxes_and_custom_retries", m0007_practice_sandboxes_and_custom_retries),
    ("0008_server_side_sessions_and_sign_in_attempts", m0008_server_side_sessions_and_sign_in_attempts),
    ("0009_twilio_retries_once_and_edit_versions", m0009_twilio_retries_once_and_edit_versions),
    ("0010_outbound_message_text", m0010_outbound_message_text),
    ("0011_names_unique_per_sandbox", m0011_names_unique_per_sandbox),
    ("0012_practice_state", m0012_practice_state),
]


def _applied_table(db):
    table = _frozen(
        db,
        "schema_migration",
        version=peewee.CharField(max_length=128, primary_key=True),
        applied_at=peewee.DateTimeField(default=_now),
    )
    table.create_table(safe=True)
    return table


def applied_versions(db) -> list[str]:
    with db.connection_context():
        table = _applied_table(db)
        return [row.version for row in table.select().order_by(table.version)]


def apply_migrations(db, upto: str | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; return their names."""
    applied = []
    with db.connection_context(), _foreign_keys_deferred_to_the_end(db):
        table = _applied_table(db)
        done = {row.version for row in table.select()}
        for version, step in MIGRATIONS:
            if version not in done:
                with db.atomic():
                    step(db)
                    _check_foreign_keys(db, version)
                    table.create(version=version)
                applied.append(version)
            if version == upto:
                break
    return applied


@contextmanager
def _foreign_keys_deferred_to_the_end(db):
    """SQLite's own recipe for changing a table: peewee's migrator copies the table and drops the
    old one, and with foreign keys on that drop cascades to every row pointing at it (0007's
    new sandbox column once deleted every message). The pragma is a no-op inside a transaction."""
    if not isinstance(db, peewee.SqliteDatabase):
        yield
        return
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")


def _check_foreign_keys(db, version):
    if isinstance(db, peewee.SqliteDatabase) and db.execute_sql("PRAGMA foreign_key_check").fetchone():
        raise RuntimeError(f"Migration {version} left rows pointing at rows that don't exist; nothing was applied.")


def pending_migrations(db) -> list[str]:
    done = set(applied_versions(db))
    return [version for version, _ in MIGRATIONS if version not in done]
