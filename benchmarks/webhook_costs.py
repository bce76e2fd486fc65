"""Where a signed status callback's CPU time goes, in-process (no HTTP server, one thread):
the whole request through the app against a bare endpoint of the same app, then each part
of the receiver on its own. A companion to benchmarks/webhooks.py, for finding what to make
cheaper next.

    .venv/bin/python benchmarks/webhook_costs.py [--requests 1000] [--rounds 5]

Prints CPU microseconds per call, the minimum over the rounds (the machines are shared and
noisy; the minimum is the least disturbed round).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet  # noqa: E402
from flask import request  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from app import create_app  # noqa: E402
from wizard.core.db import database, group_commit, open_database  # noqa: E402
from wizard.core.migrations import apply_migrations  # noqa: E402
from wizard.core.models import ApiCredential, CredentialNumber, Sandbox  # noqa: E402
from wizard.messaging.store import record_status  # noqa: E402
from wizard.webhooks import receivers as webhooks  # noqa: E402

PUBLIC_BASE_URL = "https://webhooks.example.com"
TOKEN = "a1" * 16


def cpu_per_call(calls, rounds: int) -> float:
    """Run each round's calls; CPU microseconds per call of the least disturbed round."""
    best = float("inf")
    for round_calls in calls(rounds):
        started = time.process_time()
        for call in round_calls:
            call()
        best = min(best, (time.process_time() - started) / len(round_calls) * 1e6)
    return best


def main(requests: int = 1000, rounds: int = 5, out=print) -> dict:
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/costs.sqlite3"
    apply_migrations(open_database(url))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL})
    app.add_url_rule("/bench/bare", "bench_bare", lambda: ("", 204), methods=["POST"])
    app.view_functions["bench_bare"].is_webhook = True  # exempt from sign-in and CSRF, like the receivers
    app.extensions["csrf"].exempt(app.view_functions["bench_bare"])
    with app.app_context(), database.connection_context():
        credential = ApiCredential(name="Bench", name_key="bench", account_sid="AC" + "1" * 32,
                                   messaging_service_sid="MG" + "1" * 32)
        credential.set_auth_token(TOKEN)
        credential.save()
        number = CredentialNumber.create(credential=credential, sandbox=Sandbox.get(), phone_number="+14155550101")
    path = f"/hooks/twilio/{number.webhook_key}/status"
    validator = RequestValidator(TOKEN)
    sids = iter(range(10**9))

    def callback():
        params = {"MessageSid": f"SM{next(sids):032x}", "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32,
                  "To": "+886912345678", "From": "+14155550101", "ApiVersion": "2010-04-01"}
        headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC_BASE_URL + path, params)}
        return params, EnvironBuilder(path=path, method="POST", data=urlencode(params), headers=headers,
                                      content_type="application/x-www-form-urlencoded").get_environ()

    def through_app(environ):
        def call():
            status = []
            body = app(environ, lambda s, h, exc_info=None: status.append(s))
            b"".join(body)
            body.close()
            if not status[0].startswith("2"):
                raise SystemExit(f"{environ['PATH_INFO']} answered {status[0]}")
        return call

    def bare(n):
        data = "MessageSid=SM1&MessageStatus=sent"
        for _ in range(n):
            environ = EnvironBuilder(path="/bench/bare", method="POST", data=data,
                                     content_type="application/x-www-form-urlencoded")
            yield [through_app(environ.get_environ()) for _ in range(requests)]

    def signed(n):
        for _ in range(n):
            yield [through_app(callback()[1]) for _ in range(requests)]

    rows = {"bare Flask endpoint (whole request)": cpu_per_call(bare, rounds),
            "signed status callback (whole request)": cpu_per_call(signed, rounds)}

    def in_request(part):
        """Each call in a fresh request context of its own signed callback, less the context's cost."""
        def calls(n):
            for _ in range(n):
                yield [lambda c=callback(): _in_context(c, part) for _ in range(requests)]
        return calls

    def _in_context(prepared, part):
        params, environ = prepared
        with app.request_context(environ), database.connection_context():
            part(params)

    empty = cpu_per_call(in_request(lambda params: None), rounds)
    parts = {
        "form parsing (request.form)": lambda params: request.form,
        "key lookup and token decrypt": lambda params: webhooks._receiver(number.webhook_key),
        "signature check (parses the form too)": lambda params: _signed(webhooks._signature_problem((TOKEN,))),
        "record_status, one transaction each": lambda params: _record_alone(number, params),
        "group_commit(record_status), one thread": lambda params: group_commit(lambda: _record(number, params)),
    }
    for label, part in parts.items():
        rows[label] = cpu_per_call(in_request(part), rounds) - empty
    out(f"CPU time per call, min of {rounds} rounds of {requests}, in-process, SQLite")
    for label, value in rows.items():
        out(f"{label:<44}{value:>8.0f} us")
    return rows


def _signed(problem):
    if problem is not None:
        raise SystemExit(f"the signature check failed: {problem}")


def _record(number, params):
    return record_status(credential=number.credential_id, sandbox=number.sandbox_id, message_sid=params["MessageSid"],
                         status=params["MessageStatus"], params=params)


def _record_alone(number, params):
    with database.atomic():
        return _record(number, params)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.requests, args.rounds)
