"""The benchmark scripts still run (their figures are read by people, never asserted)."""
import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks import sms_flow, webhook_costs


def run_script(*args: str) -> subprocess.CompletedProcess:
    """A benchmark script in its own process (each sets its own environment), on its own SQLite database."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    run = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run


def test_the_sms_flow_benchmark_walks_every_step():
    lines = []
    rows = sms_flow.main(runs=2, out=lines.append)
    assert set(rows) == {"credential", "account", "messaging_service", "numbers", "review"}
    assert lines[-1].startswith("worst page p50")


def test_the_webhook_benchmark_runs_against_gunicorn_and_counts_what_it_stored():
    """A one-second run."""
    run = run_script("benchmarks/webhooks.py", "--seconds", "1", "--connections", "4")
    lines = run.stdout.splitlines()
    assert any(line.startswith("bare Flask endpoint") for line in lines)
    signed_errors = re.search(r"signed status callback\s+\d+\s+[\d.]+\s+[\d.]+\s+(\d+)", run.stdout).group(1)
    assert signed_errors == "0"  # every signed callback was answered 2xx
    stored, sent = map(int, re.search(r"stored (\d+) of (\d+) sent", run.stdout).groups())
    assert sent > 0 and stored >= sent  # nothing answered 2xx was lost


def test_the_fixed_rate_benchmark_offers_callbacks_on_schedule_and_counts_what_it_stored():
    """One second at 20 requests/s per endpoint."""
    run = run_script("benchmarks/callback_rate.py", "--rate", "20", "--seconds", "1")
    figures = r"\s+20\s+\d+\s+[\d.]+\s+[\d.]+\s+(\d+)\s+\d+"  # offered, achieved, p50, p99, errors, CPU
    assert re.search(rf"^bare Flask endpoint{figures}  -$", run.stdout, re.MULTILINE).group(1) == "0", run.stdout
    signed = re.search(rf"^signed status callback{figures}  (\d+) == (\d+): yes$", run.stdout, re.MULTILINE)
    assert signed, run.stdout
    errors, stored, acknowledged = signed.groups()
    assert errors == "0" and stored == acknowledged == "20"  # every callback offered answered 2xx, and stored


def test_the_webhook_cost_breakdown_times_every_part():
    rows = webhook_costs.main(requests=5, rounds=1, out=lambda line: None)
    assert {"bare Flask endpoint (whole request)", "signed status callback (whole request)",
            "signature check (parses the form too)", "group_commit(record_status), one thread"} <= set(rows)


def test_the_health_benchmark_times_the_page_with_a_slow_twilio():
    """In its own process: the browser tests' Chromium (Playwright's sync API) may already run in this one."""
    run = run_script("benchmarks/health.py", "--runs", "1")
    for figure in ("frame", "other checks shown", "every check shown", "without JavaScript"):
        assert re.search(rf"^{figure} +[\d.]+ +[\d.]+$", run.stdout, re.MULTILINE), run.stdout
    assert run.stdout.splitlines()[-1].startswith("other checks shown within 2 s:")
