"""Benchmark: signed Twilio status callbacks against the production server (gunicorn) on
loopback, each with a different MessageSid, 32 connections, at least 20 seconds; and in the
same run the same load against a bare Flask endpoint of the same server, for comparison.

    .venv/bin/python benchmarks/webhooks.py [--seconds 20] [--connections 32]

Prints requests per second, p50 and p99 latency, and events stored against events sent.
Targets (issue 4): >= 50% of the bare endpoint's throughput, p99 <= 50 ms, stored == sent.
Needs wrk (Debian package `wrk`; installed when missing and apt can be used).
"""
import argparse
import os
import re
import runpy
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

# As in production (README): Twilio calls, and signs, the public https address of a proxy in front.
PUBLIC_BASE_URL = "https://webhooks.example.com"

# gunicorn loads this module's `application`: the real app plus one bare endpoint.
LUA = r"""
local requests, index, step = {}, 0, 1
threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  local id, count = tonumber(wrk.thread:get("id")), tonumber(args[2])
  for line in io.lines(args[1]) do
    local path, signature, body = line:match("([^\t]*)\t([^\t]*)\t(.*)")
    table.insert(requests, {path, signature, body})
  end
  index, step = id, count
end
function request()
  index = index + step
  local r = requests[((index - 1) % #requests) + 1]
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = r[2]}
  return wrk.format("POST", r[1], headers, r[3])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %d\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration))
end
"""


def application():
    from app import create_app

    app = create_app()
    app.add_url_rule("/bench/bare", "bench_bare", lambda: ("", 204), methods=["POST"])
    app.view_functions["bench_bare"].is_webhook = True  # exempt from sign-in and CSRF, like the receivers
    app.extensions["csrf"].exempt(app.view_functions["bench_bare"])
    return app


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not start")


def server_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a server process and its worker processes (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for process in [pid, *map(int, children)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def run_wrk(url, requests_file, seconds, connections, server_pid, threads=2):
    cpu_before = server_cpu_seconds(server_pid)
    lua = Path(requests_file).with_suffix(".lua")
    lua.write_text(LUA)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(lua), url,
         "--", str(requests_file), str(threads)],
        check=True, capture_output=True, text=True,
    ).stdout
    cpu = server_cpu_seconds(server_pid) - cpu_before
    done, errors, p50, p99, duration_us = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)", out).groups()
    seconds_run = int(duration_us) / 1e6
    return {"requests": int(done), "errors": int(errors), "rps": int(done) / seconds_run, "p50": float(p50),
            "p99": float(p99), "cpu_us": cpu / max(int(done), 1) * 1e6}


def prepare(folder: Path, database_url: str = "") -> tuple[dict, str, str]:
    """Migrate the database (a new SQLite file in folder unless database_url is given), add a
    Twilio credential with one number, and set this process's environment as the server's.
    Returns the server's environment, the credential's auth token, and its status callback path."""
    env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
           "SECRET_KEY": "bench", "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TRUSTED_PROXIES": "0"}
    os.environ.update(env)
    from app import create_app
    from wizard.core.db import database
    from wizard.core.migrations import apply_migrations
    from wizard.core.models import ApiCredential, CredentialNumber, Sandbox

    app = create_app()
    apply_migrations(database)
    token = "a1" * 16
    with app.app_context(), database.connection_context():
        credential = ApiCredential(name="Bench", name_key="bench", account_sid="AC" + "1" * 32,
                                   messaging_service_sid="MG" + "1" * 32)
        credential.set_auth_token(token)
        credential.save()
        key = CredentialNumber.create(credential=credential, sandbox=Sandbox.get(),
                                      phone_number="+14155550101").webhook_key
    database.obj.close_all()
    return env, token, f"/hooks/twilio/{key}/status"


def server_settings(workers: int | None = None, threads: int | None = None, worker_class: str | None = None) -> dict:
    """The production settings (gunicorn.conf.py), with what the command line overrides."""
    production = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {"workers": workers or production["workers"], "threads": threads or production["threads"],
            "worker_class": worker_class or production["worker_class"]}


def start_server(env: dict, settings: dict) -> tuple[subprocess.Popen, str]:
    """gunicorn with the production settings file and these overrides, serving `application()` on a
    free loopback port, once it answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(settings["workers"]),
         "-k", settings["worker_class"], "--threads", str(settings["threads"]), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "benchmarks.webhooks:application()"],
        cwd=ROOT, env=env,
    )
    wait_until_up(base + "/login")
    return server, base


def describe(settings: dict) -> str:
    return f"gunicorn {settings['workers']} worker(s) x {settings['threads']} threads ({settings['worker_class']})"


def signed_callbacks(token: str, path: str, first: int, count: int):
    """Lines `path TAB signature TAB body` of signed "delivered" callbacks, MessageSids first.. first+count-1."""
    validator = RequestValidator(token)
    for i in range(first, first + count):
        params = {"MessageSid": f"SM{i:032x}", "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32,
                  "To": "+886912345678", "From": "+14155550101", "ApiVersion": "2010-04-01"}
        yield f"{path}\t{validator.compute_signature(PUBLIC_BASE_URL + path, params)}\t{urlencode(params)}\n"


def stored_events(database_url: str) -> int:
    """Status events stored so far in the benchmark's database."""
    from wizard.core.db import open_database

    db = open_database(database_url)
    try:
        with db.connection_context():
            return db.execute_sql("SELECT count(*) FROM status_event").fetchone()[0]
    finally:
        db.close_all()


def main(seconds=20, connections=32, workers=None, threads=None, out=print):
    ensure_wrk()
    folder = Path(tempfile.mkdtemp())
    env, token, path = prepare(folder)
    settings = server_settings(workers, threads)
    server, base = start_server(env, settings)
    try:
        bare_file = folder / "bare.txt"
        bare_file.write_text("/bench/bare\tx\tMessageSid=SM1&MessageStatus=sent\n")
        bare = run_wrk(base, bare_file, seconds, connections, server.pid)
        # Enough different callbacks for the receiver to never see a MessageSid twice.
        signed_file = folder / "signed.txt"
        with open(signed_file, "w") as f:
            f.writelines(signed_callbacks(token, path, 0, int(bare["rps"] * seconds * 1.2) + 1000))
        signed = run_wrk(base, signed_file, seconds, connections, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = stored_events(env["DATABASE_URL"])
    sent = signed["requests"]
    out(f"{connections} connections, {seconds} s each, {describe(settings)}, SQLite (WAL)")
    out(f"{'endpoint':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'server CPU us/req':>19}")
    for label, row in (("bare Flask endpoint", bare), ("signed status callback", signed)):
        out(f"{label:<26}{row['rps']:>9.0f}{row['p50']:>9.1f}{row['p99']:>9.1f}{row['errors']:>8}{row['cpu_us']:>19.0f}")
    out(f"throughput {signed['rps'] / bare['rps']:.0%} of bare (target >= 50%); p99 {signed['p99']:.1f} ms "
        f"(target <= 50); stored {stored} of {sent} sent (wrk counts requests answered)")
    # Little's law: with every connection always waiting, mean latency = connections / throughput.
    out(f"{connections} busy connections at {signed['rps']:.0f} req/s wait {1000 * connections / signed['rps']:.0f} ms "
        f"on average; p99 <= 50 ms needs well over {1000 * connections / 50:.0f} req/s")
    return {"bare": bare, "signed": signed, "stored": stored, "sent": sent}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    args = parser.parse_args()
    main(args.seconds, args.connections, args.workers, args.threads)
