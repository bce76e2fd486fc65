"""The app as several instances on one database, on one machine: gunicorn servers, each with its
own checkout and port, alone or behind nginx's round robin (no sticky sessions). nginx logs which
instance served each request. Tests reach them with HttpTestClient, Flask's test client over HTTP.

Each instance runs the production command (README "Production", with gunicorn.conf.py) from a
folder of its own whose entries link to this checkout's, as a second machine would have a
checkout of its own: Flask puts the instance folder beside app.py, so each instance has its own
instance/ too.

    with Cluster(folder, database_url, {"TWILIO_BASE_URL": ...}) as cluster:
        requests.get(cluster.url + "/login")
        cluster.served_since(0)  # [Served("GET", "/login", 200, ["127.0.0.1:40123"])]
"""
import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, BrowserLikeClient

ROOT = Path(__file__).resolve().parents[2]
NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")
START_SECONDS = 30  # an instance or nginx that does not answer by then failed to start

# Round robin over the instances, and nothing sticky (no ip_hash, no hash, no cookie). nginx
# logs the instance that answered ($upstream_addr; two when the first refused the connection).
# Bodies and answers stay in memory: as root, nginx's workers run as nobody, which can't enter
# the test's temporary folder to write temporary files there.
NGINX_CONF = """\
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format served '$request_method\\t$request_uri\\t$status\\t$upstream_addr';
    access_log {folder}/access.log served;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 2m;
    client_body_buffer_size 2m;

    upstream app {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_buffering off;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, log: Path):
    """Until `url` answers at all; fails with the process's log if it exits or takes too long."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()}")
        try:
            requests.get(url, timeout=2, allow_redirects=False)
            return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or no worker ready yet
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {START_SECONDS} s:\n{log.read_text()}")


def stop(process: subprocess.Popen):
    """End a process group started here: politely, then by force."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Instance:
    """One gunicorn server of the app with one worker, in a checkout of its own, with these
    settings over this process's environment. gunicorn.conf.py gives the worker class, the
    threads and the practice clock, as in production."""

    def __init__(self, name: str, folder: Path, settings: dict):
        self.name = name
        self.folder = folder
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        # Not this test process's Flask or gunicorn settings: only the instance's own.
        self.environment = {**{name: value for name, value in os.environ.items()
                               if not name.startswith(("FLASK_", "GUNICORN"))}, **settings}
        self.process = None
        folder.mkdir()
        for entry in ROOT.iterdir():
            if entry.name != "instance":
                (folder / entry.name).symlink_to(entry)

    @property
    def log(self) -> Path:
        return self.folder / "gunicorn.log"

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py", "-w", "1", "-b", self.address,
                 "--log-level", "warning", "app:create_app()"],
                cwd=self.folder, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # a process group of its own: kill() ends the master and its worker at once

    def wait_until_answering(self):
        wait_until_answering(self.url + "/login", self.process, self.log)

    def kill(self):
        """kill -9 the whole instance, the master and its worker, in the middle of whatever it does:
        nothing of it runs on, nothing is cleaned up. Once killed, a no-op."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process is not None:
            stop(self.process)


def start_side_by_side(instances: list[Instance]):
    """Start these instances together (each takes a second or two), then wait until each answers."""
    for instance in instances:
        instance.start()
    for instance in instances:
        instance.wait_until_answering()


@dataclass
class Served:
    """One request as nginx logged it; `instances` lists every instance tried, in order."""

    method: str
    uri: str
    status: int
    instances: list[str]


class Cluster:
    """Instances of the app on one database, behind nginx at `url` (their PUBLIC_BASE_URL)."""

    def __init__(self, folder: Path, database_url: str, environment: dict | None = None, instances: int = 2):
        if not os.path.exists(NGINX):
            raise RuntimeError(f"{NGINX} is missing: run scripts/setup --dev, which installs Debian's nginx")
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # What every instance must share (README "Running more than one instance").
        self.secret_key = secrets.token_hex(32)
        self.settings = {
            "SECRET_KEY": self.secret_key, "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url, "PUBLIC_BASE_URL": self.url, "TRUSTED_PROXIES": "1",
            **(environment or {}),
        }
        self.instances = [Instance(f"instance {n}", folder / f"instance-{n}", self.settings)
                          for n in range(1, instances + 1)]
        self.nginx = None

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def __enter__(self) -> "Cluster":
        try:
            start_side_by_side(self.instances)
            self._start_nginx()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_nginx(self):
        servers = "\n".join(f"        server {instance.address};" for instance in self.instances)
        conf = self.folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(folder=self.folder, port=self.port, servers=servers))
        error_log = self.folder / "error.log"
        with open(self.folder / "nginx.out", "ab") as out:
            self.nginx = subprocess.Popen(
                [NGINX, "-p", str(self.folder), "-e", str(error_log), "-c", str(conf), "-g", "daemon off;"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until_answering(self.url + "/login", self.nginx, error_log)

    def __exit__(self, *exc):
        if self.nginx is not None:
            stop(self.nginx)
        for instance in self.instances:
            instance.stop()

    def instance_at(self, address: str) -> Instance:
        return next(instance for instance in self.instances if instance.address == address)

    def log_position(self) -> int:
        """How many requests nginx has logged so far: pass it to served_since()."""
        return len(self._logged())

    def _logged(self) -> list[str]:
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def served_since(self, position: int, at_least: int = 0) -> list[Served]:
        """The requests nginx logged after `position`. nginx writes a line once the answer is sent,
        so a client can read its answer before the line is there: wait (a bounded while) for `at_least`."""
        deadline = time.monotonic() + 5
        while len(lines := self._logged()[position:]) < at_least and time.monotonic() < deadline:
            time.sleep(0.02)
        served = []
        for line in lines:
            method, uri, status, upstreams = line.split("\t")
            served.append(Served(method, uri, int(status), [u.strip() for u in upstreams.split(",") if u.strip()]))
        return served


class HttpAnswer:
    """A requests answer read as the test client's (tests/support/html.py reads those)."""

    def __init__(self, answer: requests.Response):
        self.status_code, self.headers, self._answer = answer.status_code, answer.headers, answer

    def get_data(self, as_text=False):
        return self._answer.text if as_text else self._answer.content


class HttpTestClient:
    """Flask's test client's get and post, over real HTTP to `base_url` (a cookie jar, redirects
    not followed unless asked), so tests.support.app.BrowserLikeClient and the walks built on it
    (tests/support/guided.py, practice.py) run through a real server."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()

    def _request(self, method, path, data=None, headers=None, follow_redirects=False) -> HttpAnswer:
        url = path if path.startswith("http") else self.base_url + path
        return HttpAnswer(self.session.request(method, url, data=data, headers=headers,
                                               allow_redirects=follow_redirects, timeout=30))

    def get(self, path, headers=None, follow_redirects=False):
        return self._request("GET", path, headers=headers, follow_redirects=follow_redirects)

    def post(self, path, data=None, headers=None, follow_redirects=False):
        return self._request("POST", path, data=data, headers=headers, follow_redirects=follow_redirects)


def signed_in_over_http(base_url: str, email: str = ADMIN_EMAIL) -> BrowserLikeClient:
    """A browser of this admin, signed in at `base_url` (an instance's or nginx's); the test
    client's helpers work on it."""
    client = BrowserLikeClient(HttpTestClient(base_url))
    client.get("/login")
    response = client.post("/login", {"email": email, "password": ADMIN_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.get(response.headers["Location"])
    return client
