"""Secrets at rest: encrypted with the first of ENCRYPTION_KEYS, readable with any of them.

To rotate, put a new key first and keep the old ones after it: old values still
decrypt, and `flask --app app rotate-keys` re-encrypts every stored secret under the new key.
Start-up (the app, `migrate`, any command) stops when the keys can't decrypt a stored secret."""
import functools

import click
import peewee
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from flask.cli import with_appcontext

from wizard.core.db import all_models, database


def parse_keys(value: str) -> MultiFernet:
    keys = [k.strip() for k in value.replace("\n", ",").split(",") if k.strip()]
    if not keys:
        raise SystemExit("ENCRYPTION_KEYS is empty: give one or more Fernet keys, comma-separated.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SystemExit(
            "ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from None


ROTATE_COMMAND = "flask --app app rotate-keys"


class UndecryptableSecrets(SystemExit):
    """Start-up stops with this when ENCRYPTION_KEYS can't decrypt what the database holds."""


def init_app(app):
    app.extensions["wizard.keys"] = parse_keys(app.config["ENCRYPTION_KEYS"])
    app.cli.add_command(rotate_keys_command)
    # Before anything is served (or migrated): wrong keys would answer 500 on every page and
    # signed receiver that reads a secret.
    with app.app_context():
        check_stored_secrets()


def _undecryptable(keys: MultiFernet) -> dict[str, int]:
    """"table.column" -> how many of its stored values none of the keys decrypts. Tables and
    columns an older schema lacks yet (before `migrate`) are skipped."""
    found = {}
    with database.connection_context():
        for model, fields in _models_with_secrets():
            table = model._meta.table_name
            if not database.table_exists(table):
                continue
            columns = {column.name for column in database.get_columns(table)}
            for field in fields:
                if field.column_name not in columns:
                    continue
                # The query's SQL run by hand: the raw, still encrypted values.
                cursor = database.execute(model.select(field).where(field.is_null(False)))
                failed = 0
                for (token,) in cursor:
                    try:
                        keys.decrypt(token.encode())
                    except InvalidToken:
                        failed += 1
                if failed:
                    found[f"{table}.{field.column_name}"] = failed
    return found


def check_stored_secrets():
    """Stop start-up, naming the setting and the way out, when ENCRYPTION_KEYS can't decrypt
    every stored secret (a key removed too early, or the wrong environment's keys)."""
    found = _undecryptable(_keys())
    if found:
        where = ", ".join(f"{place} ({count} row{'s' if count != 1 else ''})" for place, count in found.items())
        raise UndecryptableSecrets(
            f"ENCRYPTION_KEYS cannot decrypt the secrets stored in the database: {where}. Put the key they were "
            f"encrypted with back into ENCRYPTION_KEYS (after the new key, which comes first, when rotating), "
            f"then run `{ROTATE_COMMAND}` to re-encrypt every secret with the first key. Nothing is served until "
            f"then.")


def _keys() -> MultiFernet:
    return current_app.extensions["wizard.keys"]


def encrypt(plaintext: str) -> str:
    return _keys().encrypt(plaintext.encode()).decode()


def decrypt(token: str, keys: MultiFernet | None = None) -> str:
    try:
        return (keys or _keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("a stored secret cannot be decrypted with any of ENCRYPTION_KEYS") from None


def decrypt_remembered(token: str) -> str:
    """decrypt(), remembered per stored value: webhook receivers read the same tokens for
    every request. A changed or re-encrypted secret is a new stored value, so nothing
    remembered is ever stale."""
    return _remembered(_keys(), token)


@functools.lru_cache(maxsize=1024)
def _remembered(keys: MultiFernet, token: str) -> str:
    return decrypt(token, keys)


class EncryptedField(peewee.TextField):
    """A text column whose value is encrypted before it is written."""

    def db_value(self, value):
        return None if value is None else encrypt(value)

    def python_value(self, value):
        return None if value is None else decrypt(value)


def _models_with_secrets():

    for model in all_models():
        fields = [f for f in model._meta.sorted_fields if isinstance(f, EncryptedField)]
        if fields:
            yield model, fields


@click.command("rotate-keys")
@with_appcontext
def rotate_keys_command():
    """Re-encrypt every stored secret with the first key of ENCRYPTION_KEYS."""

    count = 0
    with database.atomic():
        for model, fields in _models_with_secrets():
            for row in model.select():
                row.save(only=fields)  # read with any key, written with the first
                count += 1
    click.echo(f"Re-encrypted the secrets of {count} rows.")
