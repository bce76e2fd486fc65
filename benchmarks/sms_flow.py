"""Benchmark: walk the guided SMS/MMS flow against the fake Twilio and print, per step,
the server time (p50, p95) and the size of the full page and of the htmx fragment.

    .venv/bin/python benchmarks/sms_flow.py [--runs 40]

Targets (issue 3): p50 <= 15 ms for every page, fragments <= 8 KB, full pages <= 60 KB
(HTML only; htmx and CSS are separate, cached files). A bare Flask endpoint is timed in
the same run as a baseline, since these machines are shared and noisy.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet  # noqa: E402

from app import create_app  # noqa: E402
from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, BrowserLikeClient, create_admin  # noqa: E402
from tests.support.fake_twilio import FakeTwilio  # noqa: E402
from wizard.core.db import open_database  # noqa: E402
from wizard.core.migrations import apply_migrations  # noqa: E402


def timed(call):
    started = time.perf_counter()
    response = call()
    return (time.perf_counter() - started) * 1000, response


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(runs: int = 40, out=print) -> dict:
    fake = FakeTwilio(seed=True)
    fake.start()
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/bench.sqlite3"
    apply_migrations(open_database(url))
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
                      "TWILIO_BASE_URL": fake.base_url})
    app.add_url_rule("/bench/bare", "bench_bare", lambda: "<p>bare</p>")
    app.view_functions["bench_bare"].is_public = True
    create_admin(app)
    client = BrowserLikeClient(app.test_client())
    client.get("/login")
    client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    client.get("/setup")

    posts = {
        "credential": lambda i: {"vendor": "twilio", "name": f"Bench {i}"},
        "account": lambda i: {"account_sid": fake.account_sid, "auth_token": fake.auth_token},
        "messaging_service": lambda i: {"messaging_service_sid": fake.service_sid},
        "numbers": lambda i: {"use_1": "y", "number_1": fake.service_numbers[0]},
    }
    rows = {name: {"page": [], "fragment": [], "post": [], "page_kb": 0, "fragment_kb": 0}
            for name in [*posts, "review"]}
    bare = []
    for i in range(runs):
        bare.append(timed(lambda: client.get("/bench/bare"))[0])
        first = client.post("/setup/sms").headers["Location"]
        base = first.rsplit("/", 1)[0]
        for name, data in [*posts.items(), ("review", None)]:
            url = f"{base}/{name}"
            ms, page = timed(lambda url=url: client.get(url))
            rows[name]["page"].append(ms)
            rows[name]["page_kb"] = len(page.data) / 1024
            if name != "review":
                ms, fragment = timed(lambda url=url: client.htmx_get(url))
                rows[name]["fragment"].append(ms)
                rows[name]["fragment_kb"] = len(fragment.data) / 1024
                ms, response = timed(lambda url=url, data=data, i=i: client.post(url, data(i)))
            else:
                ms, response = timed(lambda url=url: client.post(url))
            assert response.status_code == 303, (name, response.status_code, response.get_data(as_text=True)[:500])
            rows[name]["post"].append(ms)
    fake.stop()

    out(f"SMS/MMS guided flow, {runs} runs, server time in ms (Flask test client, fake Twilio on 127.0.0.1)")
    out(f"{'step':<20}{'page p50':>9}{'p95':>7}{'frag p50':>9}{'p95':>7}{'next p50':>9}{'p95':>7}"
        f"{'page KB':>9}{'frag KB':>9}")
    for name, row in rows.items():
        frag = row["fragment"] or [0]
        out(f"{name:<20}{statistics.median(row['page']):>9.1f}{percentile(row['page'], .95):>7.1f}"
            f"{statistics.median(frag):>9.1f}{percentile(frag, .95):>7.1f}"
            f"{statistics.median(row['post']):>9.1f}{percentile(row['post'], .95):>7.1f}"
            f"{row['page_kb']:>9.1f}{row['fragment_kb']:>9.1f}")
    out(f"{'baseline bare Flask':<20}{statistics.median(bare):>9.1f}{percentile(bare, .95):>7.1f}")
    worst_page = max(statistics.median(r["page"]) for r in rows.values())
    out(f"worst page p50 {worst_page:.1f} ms (target 15); largest page "
        f"{max(r['page_kb'] for r in rows.values()):.1f} KB (target 60); largest fragment "
        f"{max(r['fragment_kb'] for r in rows.values()):.1f} KB (target 8)")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    main(parser.parse_args().runs)
