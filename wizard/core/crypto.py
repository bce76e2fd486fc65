"""Secrets at rest: encrypted with the first of ENCRYPTION_KEYS, readable with any of them.

To rotate, put a new key first and keep the old ones after it: old values still
decrypt, and `flask --app app rotate-keys` re-encrypts every stored secret under the new key."""
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


def init_app(app):
    app.extensions["wizard.keys"] = parse_keys(app.config["ENCRYPTION_KEYS"])
    app.cli.add_command(rotate_keys_command)


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
