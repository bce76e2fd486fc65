"""The app served by gunicorn in processes of its own on 127.0.0.1 (as in production, with
gunicorn.conf.py), and a browser-like HTTP client for them: for tests of what many processes on
one database share."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.app import ADMIN_EMAIL, ADMIN_PASSWORD, BrowserLikeClient

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppProcess:
    """`.venv/bin/gunicorn -c gunicorn.conf.py -w 1 'app:create_app()'` with these settings, in a
    session of its own (kill() ends its master and worker at once, as a machine that dies)."""

    def __init__(self, settings: dict, instance: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **settings, "HOME": str(instance)}
        instance.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "-w", "1", "-k", "gthread",
             "--threads", "4", "-b", f"127.0.0.1:{self.port}", "app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    def wait_until_up(self, seconds: float = 20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn stopped: {self.process.stderr.read().decode()[-2000:]}")
            try:
                requests.get(f"{self.url}/login", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"gunicorn on {self.url} did not answer within {seconds} s")

    def kill(self):
        """SIGKILL to its master and worker: nothing of it runs on, nothing is cleaned up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process.stderr.close()


class _Answer:
    """A requests answer read as the test client's (tests/support/html.py reads those)."""

    def __init__(self, answer: requests.Response):
        self.answer = answer
        self.status_code, self.headers = answer.status_code, answer.headers

    def get_data(self, as_text=False):
        return self.answer.text if as_text else self.answer.content


class _Http:
    def __init__(self, base_url: str):
        self.base_url, self.session = base_url, requests.Session()

    def get(self, url, headers=None, **kwargs):
        return _Answer(self.session.get(self.base_url + url, headers=headers, allow_redirects=False, timeout=20))

    def post(self, url, data=None, headers=None, **kwargs):
        return _Answer(self.session.post(self.base_url + url, data=data, headers=headers, allow_redirects=False,
                                         timeout=20))


def signed_in_over_http(process: AppProcess) -> BrowserLikeClient:
    """A browser of the admin, signed in to this process (the test-client helpers work on it)."""
    client = BrowserLikeClient(_Http(process.url))
    client.get("/login")
    response = client.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    client.get(response.headers["Location"])
    return client
