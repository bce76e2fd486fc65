"""Persistence: versioned migrations that keep rows, SQLite settings, start-up errors, settings."""
import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import peewee
import pytest
from cryptography.fernet import Fernet

from app import create_app
from tests.support.app import ENCRYPTION_KEY
from tests.support.database import open_test_database
from tests.support.factories import make_credential
from wizard.core import crypto
from wizard.core import db as wizard_db
from wizard.core.db import DatabaseUnavailable, database, group_commit
from wizard.core.migrations import MIGRATIONS, applied_versions, apply_migrations, pending_migrations
from wizard.core.models import ApiCredential, ChannelConfiguration, CustomWebhook, Sandbox, User


def test_a_database_made_by_an_older_version_upgrades_without_losing_rows(database_url):
    db = open_test_database(database_url)
    first = MIGRATIONS[0][0]
    assert apply_migrations(db, upto=first) == [first]
    with db.connection_context():
        db.execute_sql(
            "INSERT INTO user_account (email, password_hash, created_at) VALUES (%s, %s, %s)"
            if isinstance(db, peewee.PostgresqlDatabase)
            else "INSERT INTO user_account (email, password_hash, created_at) VALUES (?, ?, ?)",
            ("old@example.com", "hash", "2026-01-01 00:00:00"),
        )
    assert pending_migrations(db) == [version for version, _ in MIGRATIONS[1:]]
    assert apply_migrations(db) == [version for version, _ in MIGRATIONS[1:]]
    database.initialize(db)
    with db.connection_context():
        old = User.get(User.email == "old@example.com")
        assert old.language is None and old.sandbox is None  # the new columns arrived empty
        assert [s.name for s in Sandbox.select()] == ["prod"]
    assert apply_migrations(db) == []
    assert applied_versions(db) == [version for version, _ in MIGRATIONS]


def test_twilio_retries_stored_before_0009_are_kept_once(database_url):
    db = open_test_database(database_url)
    apply_migrations(db, upto="0007_practice_sandboxes_and_custom_retries")
    p = db.param
    insert = (f"INSERT INTO inbound_message (sandbox_id, source, message_sid, from_number, to_number, body, media, "
              f"params, signed, received_at) VALUES (1, {p}, {p}, '+886912345678', '+14155550101', {p}, '[]', '{{}}', "
              f"{p}, '2026-01-01 00:00:00')")
    with db.connection_context():
        for source, sid, body in [("twilio", "SM1", "STOP"), ("twilio", "SM1", "STOP again"), ("twilio", "SM2", "Hi"),
                                  ("twilio", "", "no sid"), ("twilio", "", "no sid either"),
                                  ("custom", "SM1", "a custom provider's request")]:
            db.execute_sql(insert, (source, sid, body, True))
    apply_migrations(db)
    with db.connection_context():
        bodies = [row[0] for row in db.execute_sql("SELECT body FROM inbound_message ORDER BY id")]
    assert bodies == ["STOP", "Hi", "no sid", "no sid either", "a custom provider's request"]


def test_rows_that_belong_to_a_sandbox_survive_migrations_that_rebuild_the_sandbox_table(database_url):
    # 0007 adds a column to `sandbox`; on SQLite peewee copies the table and drops the old one,
    # which with foreign keys on cascaded to every row that points at a sandbox.
    db = open_test_database(database_url)
    apply_migrations(db, upto="0006_custom_provider_credentials")
    p = db.param
    with db.connection_context():
        db.execute_sql(f"INSERT INTO inbound_message (sandbox_id, source, message_sid, from_number, to_number, body, "
                       f"media, params, signed, received_at) VALUES (1, 'twilio', 'SM1', '+886912345678', "
                       f"'+14155550101', {p}, '[]', '{{}}', {p}, '2026-01-01 00:00:00')", ("kept", True))
        db.execute_sql(f"INSERT INTO consent (sandbox_id, phone_number, state, since) "
                       f"VALUES (1, {p}, 'opted_out', '2026-01-01 00:00:00')", ("+886912345678",))
    apply_migrations(db)
    with db.connection_context():
        assert [row[0] for row in db.execute_sql("SELECT body FROM inbound_message")] == ["kept"]
        assert [row[0] for row in db.execute_sql("SELECT phone_number FROM consent")] == ["+886912345678"]
        if isinstance(db, peewee.SqliteDatabase):
            assert db.execute_sql("PRAGMA foreign_keys").fetchone() == (1,)  # on again after migrating
            assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []


def test_0011_keeps_the_rows_and_makes_names_unique_per_sandbox(database_url):
    db = open_test_database(database_url)
    apply_migrations(db, upto="0010_outbound_message_text")
    database.initialize(db)  # 0011 changes only indexes: the models write rows as 0010 had them

    def add(model, name, sandbox, credential):
        if model is ChannelConfiguration:
            return model.create(name=name, name_key=name.casefold(), sms_type="marketing", credential=credential,
                                sandbox=sandbox, sender_number="+14155550101")
        return model.create(name=name, name_key=name.casefold(), type="feedback", sandbox=sandbox, payload="{}")

    with db.connection_context():
        prod = Sandbox.get(Sandbox.name == "prod")
        dev = Sandbox.create(name="dev", name_key="dev")
        credential = ApiCredential.create(name="Main", name_key="main")
        for model in (ChannelConfiguration, CustomWebhook):
            add(model, "Offers", prod, credential)
            add(model, "Alerts", dev, credential)
    assert apply_migrations(db, upto="0011_names_unique_per_sandbox") == ["0011_names_unique_per_sandbox"]
    with db.connection_context():
        for model in (ChannelConfiguration, CustomWebhook):
            # dev's name in prod, prod's in dev: sandboxes are separate environments.
            add(model, "Alerts", prod, credential)
            add(model, "OFFERS", dev, credential)
            assert sorted((row.sandbox.name, row.name) for row in model.select()) == [
                ("dev", "Alerts"), ("dev", "OFFERS"), ("prod", "Alerts"), ("prod", "Offers")]
            with pytest.raises(peewee.IntegrityError), db.atomic():  # one name twice in a sandbox
                add(model, "offers", prod, credential)


def test_the_migrate_command_applies_pending_migrations(database_url):
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x", "ENCRYPTION_KEYS": ENCRYPTION_KEY})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert "Applied: 0001_accounts_and_sandboxes" in result.output
    assert "The database is up to date." in runner.invoke(args=["migrate"]).output


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    db = open_test_database(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_an_unreachable_database_stops_start_up_naming_database_url():
    with pytest.raises(DatabaseUnavailable) as stopped:
        create_app({"DATABASE_URL": "postgresql://nobody:hunter2@127.0.0.1:1/none",
                    "SECRET_KEY": "x", "ENCRYPTION_KEYS": ENCRYPTION_KEY})
    message = str(stopped.value)
    assert "DATABASE_URL" in message and "127.0.0.1:1" in message
    assert "hunter2" not in message


def test_an_unknown_database_scheme_is_refused():
    with pytest.raises(DatabaseUnavailable, match="DATABASE_URL must start with"):
        create_app({"DATABASE_URL": "mysql://x@127.0.0.1/y", "SECRET_KEY": "x", "ENCRYPTION_KEYS": ENCRYPTION_KEY})


def test_secrets_are_generated_into_the_instance_folder_once(tmp_path, monkeypatch, migrated_url):
    from wizard.core import settings

    for name in ("SECRET_KEY", "ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    first = settings.from_environment(str(tmp_path), given={"DATABASE_URL": migrated_url}, environ={})
    second = settings.from_environment(str(tmp_path), given={"DATABASE_URL": migrated_url}, environ={})
    assert len(first["SECRET_KEY"]) == 64 and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["ENCRYPTION_KEYS"] == second["ENCRYPTION_KEYS"]
    assert oct(os.stat(tmp_path / "secret_key").st_mode & 0o777) == "0o600"
    assert settings.from_environment(str(tmp_path), environ={"SECRET_KEY": "from-env"})["SECRET_KEY"] == "from-env"


def test_secrets_at_rest_decrypt_with_any_listed_key_and_rotate(app):
    from cryptography.fernet import Fernet

    old_key, new_key = ENCRYPTION_KEY, Fernet.generate_key().decode()
    with app.app_context():
        token = crypto.encrypt("0123456789abcdef0123456789abcdef")
        assert "0123456789abcdef" not in token
        app.extensions["wizard.keys"] = crypto.parse_keys(f"{new_key},{old_key}")
        assert crypto.decrypt(token) == "0123456789abcdef0123456789abcdef"
        app.extensions["wizard.keys"] = crypto.parse_keys(new_key)
        with pytest.raises(ValueError, match="ENCRYPTION_KEYS"):
            crypto.decrypt(token)
    with pytest.raises(SystemExit, match="not a Fernet key"):
        crypto.parse_keys("not-a-key")


def _sandbox_names(app):
    with app.app_context(), database.connection_context():
        return {s.name for s in Sandbox.select()}


def test_group_commit_stores_a_whole_batch_and_fails_only_its_bad_write(app):
    """Writes queued while a commit is under way commit together; a failing one fails alone."""
    busy, release = threading.Event(), threading.Event()
    results = {}

    def blocking_write():
        busy.set()
        release.wait(10)
        return Sandbox.create(name="first", name_key="first").name

    def call(name, write):
        with app.app_context():
            try:
                results[name] = group_commit(write)
            except Exception as error:
                results[name] = error

    threads = [threading.Thread(target=call, args=("first", blocking_write))]
    threads[0].start()
    assert busy.wait(10)  # the first write is being committed: the next ones queue up
    for i in range(8):
        name = f"batch-{i}"
        threads.append(threading.Thread(target=call,
                                        args=(name, lambda n=name: Sandbox.create(name=n, name_key=n).name)))
    # "PROD" is taken (case-folded): this write fails
    threads.append(threading.Thread(target=call,
                                    args=("duplicate", lambda: Sandbox.create(name="PROD", name_key="prod"))))
    for thread in threads[1:]:
        thread.start()
    writer = wizard_db._group_commits[(os.getpid(), id(app))]
    deadline = time.monotonic() + 10
    while len(writer._queue) < 9 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(writer._queue) == 9
    release.set()
    for thread in threads:
        thread.join(15)
    assert isinstance(results["duplicate"], peewee.IntegrityError)
    assert {results[f"batch-{i}"] for i in range(8)} == {f"batch-{i}" for i in range(8)}
    assert results["first"] == "first"
    assert _sandbox_names(app) >= {"first", *(f"batch-{i}" for i in range(8))}


def test_group_commit_with_nothing_else_writing_commits_in_the_callers_thread(app):
    """No hand-off to another thread (each cost a wait for the GIL): the caller commits, and its row is there."""
    with app.app_context(), database.connection_context():
        thread = group_commit(lambda: (Sandbox.create(name="alone", name_key="alone"), threading.current_thread())[1])
        assert not database.in_transaction()
    assert thread is threading.current_thread()
    assert "alone" in _sandbox_names(app)


def test_group_commit_refuses_to_run_inside_a_transaction(app):
    """Its commit would be the caller's savepoint: the others in the batch would be answered before they are stored."""
    with app.app_context(), database.connection_context(), database.atomic():
        with pytest.raises(RuntimeError, match="outside a transaction"):
            group_commit(lambda: Sandbox.create(name="inside", name_key="inside"))
    assert "inside" not in _sandbox_names(app)


def test_sqlite_writers_queue_on_the_writer_lock_file(config, tmp_path):
    """The writer thread of every worker process waits for the lock file, not SQLite's sleeps."""
    url = f"sqlite:///{tmp_path / 'writers.sqlite3'}"
    db = open_test_database(url)
    apply_migrations(db)
    db.close()
    app = create_app({**config, "DATABASE_URL": url})
    done = threading.Event()

    def write():
        with app.app_context():
            group_commit(lambda: Sandbox.create(name="queued", name_key="queued"))
        done.set()

    with open(tmp_path / "writers.sqlite3-writer.lock", "a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX)
        threading.Thread(target=write, daemon=True).start()
        assert not done.wait(0.5)  # waits while another process's writer holds the lock
        fcntl.flock(other_process, fcntl.LOCK_UN)
    assert done.wait(10)
    assert "queued" in _sandbox_names(app)


# --- issue 11, items 10 and 11 ------------------------------------------------------------

def _mode(path) -> str:
    return oct(os.stat(path).st_mode & 0o777)


def test_the_sqlite_database_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "instance" / "wizard.sqlite3"
    path.parent.mkdir()
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x", "ENCRYPTION_KEYS": ENCRYPTION_KEY})
    result = app.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    with app.app_context(), database.connection_context():
        group_commit(lambda: Sandbox.create(name="staging", name_key="staging"))
        database.execute_sql("PRAGMA wal_checkpoint")
        files = [path, tmp_path / "instance" / "wizard.sqlite3-wal", tmp_path / "instance" / "wizard.sqlite3-shm",
                 tmp_path / "instance" / "wizard.sqlite3-writer.lock"]
        assert {file.name: _mode(file) for file in files} == {file.name: "0o600" for file in files}
    database.close()


def test_an_existing_database_file_readable_by_others_is_made_private_at_start_up(tmp_path):
    path = tmp_path / "wizard.sqlite3"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x", "ENCRYPTION_KEYS": ENCRYPTION_KEY})
    assert _mode(path) == "0o600"


def _with_a_secret(app, fake_twilio):
    return make_credential(app, fake_twilio, "Main Twilio")


ROTATE = "flask --app app rotate-keys"


def _flask(command: str, database_url: str, keys: str):
    env = {**os.environ, "DATABASE_URL": database_url, "ENCRYPTION_KEYS": keys, "SECRET_KEY": "x"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", command], env=env, capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_keys_that_cannot_decrypt_stored_secrets_stop_start_up_and_migrate(app, config, fake_twilio):
    _with_a_secret(app, fake_twilio)
    database.close()
    stranger = Fernet.generate_key().decode()
    with pytest.raises(SystemExit) as stopped:
        create_app({**config, "ENCRYPTION_KEYS": stranger})
    message = str(stopped.value)
    assert message.startswith("ENCRYPTION_KEYS cannot decrypt the secrets stored in the database")
    assert ROTATE in message and "api_credential" in message and stranger not in message

    result = _flask("migrate", config["DATABASE_URL"], stranger)
    assert result.returncode != 0
    assert "ENCRYPTION_KEYS cannot decrypt the secrets stored in the database" in result.stderr + result.stdout
    assert ROTATE in result.stderr + result.stdout

    # The rotation the message asks for: the new key first, the old one after it; then the new alone.
    rotation = _flask("rotate-keys", config["DATABASE_URL"], f"{stranger},{ENCRYPTION_KEY}")
    assert rotation.returncode == 0, rotation.stderr
    assert "Re-encrypted the secrets of" in rotation.stdout
    rotated = create_app({**config, "ENCRYPTION_KEYS": stranger})
    with rotated.app_context(), database.connection_context():
        assert ApiCredential.get().auth_token == fake_twilio.auth_token


def test_keys_are_checked_against_every_kind_of_stored_secret(app, config, signed_in, fake_twilio):
    # A guided run's draft is a secret too (it holds what was typed, tokens included).
    signed_in.get("/setup")
    assert signed_in.post("/setup/sms").status_code == 303
    database.close()
    with pytest.raises(SystemExit, match="guided_run"):
        create_app({**config, "ENCRYPTION_KEYS": Fernet.generate_key().decode()})
