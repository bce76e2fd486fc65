"""The per-client limit on password checks (sign-in, and the current password of a password change).

An attempt is counted before its password is checked, by one atomic upsert, so concurrent
attempts each see a different count: at most LOGIN_MAX_FAILURES checks get through in
LOGIN_WINDOW_SECONDS, however many arrive at once. A right password clears the count."""
import datetime

import peewee
from flask import current_app, request

from wizard.core.db import group_commit
from wizard.core.models import SignInAttempts, utcnow


def client() -> str:
    """Who the limit counts: the client's address (with TRUSTED_PROXIES, the forwarded one)."""
    _warn_when_not_proxied()
    return (request.remote_addr or "unknown")[:64]


def _warn_when_not_proxied():
    trusted = current_app.config["TRUSTED_PROXIES"]
    forwarded = [hop for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    if not trusted or len(forwarded) >= trusted or current_app.extensions.get("wizard.warned_not_proxied"):
        return
    current_app.extensions["wizard.warned_not_proxied"] = True
    current_app.logger.warning(
        "TRUSTED_PROXIES=%d, but a sign-in from %s came without X-Forwarded-For: the sign-in limit keys on the "
        "forwarded address, so gunicorn must be reachable only through the proxy (bind it to 127.0.0.1 or a "
        "private socket).", trusted, request.remote_addr)


def reserve(who: str) -> int:
    """Count one attempt for the client; 0 when its password may be checked, else the seconds
    until it may try again (the attempt is refused and checks nothing)."""
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    window = datetime.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    now = utcnow()
    expired = SignInAttempts.since <= now - window

    def count():
        # One statement counts up (or starts a new window); the row stays locked until commit,
        # so the read after it is this attempt's own count.
        SignInAttempts.insert(client=who, attempts=1, since=now).on_conflict(
            conflict_target=[SignInAttempts.client],
            update={SignInAttempts.attempts: peewee.Case(None, [(expired, 1)], SignInAttempts.attempts + 1),
                    SignInAttempts.since: peewee.Case(None, [(expired, now)], SignInAttempts.since)},
        ).execute()
        return SignInAttempts.get(SignInAttempts.client == who)

    row = group_commit(count)
    if row.attempts <= limit:
        return 0
    return max(int((row.since + window - now).total_seconds()), 1)


def clear(who: str):
    """A right password: the client starts again from no attempts."""
    SignInAttempts.delete().where(SignInAttempts.client == who).execute()
