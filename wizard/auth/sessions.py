"""Sign-in sessions kept on the server.

The signed cookie holds only a random key (`secrets.token_urlsafe`); the `admin_session` row,
found by the key's SHA-256, says whose session it is. So a session ends for good when its row
goes: on sign-out, "Sign out everywhere", a password change (the admin's other sessions), and
the admin's removal (all of them, in the same transaction). A key is never reused, so an
admin whose row id SQLite hands out again inherits no cookie. Rows also end on the server after
SESSION_IDLE_SECONDS without use, and PERMANENT_SESSION_LIFETIME after sign-in."""
import datetime
import hashlib
import secrets

from flask import current_app, session

from wizard.core.db import group_commit, write_transaction
from wizard.core.models import AdminSession, User, utcnow

KEY = "session_key"


# A request records its session's use at most this often: a write a minute per admin at most.
TOUCH_EVERY = datetime.timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _alive(now: datetime.datetime):
    """The condition of a session that has neither been idle too long nor lived too long."""
    idle = datetime.timedelta(seconds=current_app.config["SESSION_IDLE_SECONDS"])
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return (AdminSession.last_seen_at > now - idle) & (AdminSession.created_at > now - lifetime)


def _new_row(user_id: int) -> str:
    """A new session row for the admin; returns its key (call inside a transaction)."""
    key, now = secrets.token_urlsafe(32), utcnow()
    AdminSession.delete().where(~_alive(now)).execute()  # the expired sessions of everyone go meanwhile
    AdminSession.create(key_hash=_digest(key), user=user_id, created_at=now, last_seen_at=now)
    return key


def start(user: User):
    """Sign this browser in as `user`: a fresh session, nothing of the old one kept (no fixation)."""
    with write_transaction():
        key = _new_row(user.id)
    session.clear()
    session[KEY] = key
    session.permanent = True


def current_user() -> User | None:
    """The admin of this browser's session, or None: one indexed query, joined with the admin."""
    key = session.get(KEY)
    if not isinstance(key, str):
        return None
    now = utcnow()
    row = (AdminSession.select(AdminSession, User).join(User)
           .where(AdminSession.key_hash == _digest(key), _alive(now)).first())
    if row is None:
        return None
    if row.last_seen_at < now - TOUCH_EVERY:
        group_commit(AdminSession.update(last_seen_at=now).where(AdminSession.id == row.id).execute)
    return row.user


def end():
    """Sign this browser out: its row goes, so a copy of the cookie signs nobody in."""
    key = session.get(KEY)
    if isinstance(key, str):
        AdminSession.delete().where(AdminSession.key_hash == _digest(key)).execute()
    session.clear()


def end_all(user_id: int):
    """End every session of the admin (call inside the transaction that removes them, if it does)."""
    AdminSession.delete().where(AdminSession.user == user_id).execute()


def keep_only_this_one(user: User):
    """End the admin's other sessions, and give this browser a new key (call inside a transaction)."""
    end_all(user.id)
    session[KEY] = _new_row(user.id)


def count(user: User) -> int:
    """How many browsers the admin is signed in on."""
    return AdminSession.select().where(AdminSession.user == user.id, _alive(utcnow())).count()
