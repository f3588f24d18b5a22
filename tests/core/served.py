"""A node served by a real gunicorn (2 workers, the project's gunicorn_conf) for sign-in tests,
and a small HTTP client that signs in as a browser does (cookies, CSRF token)."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GunicornNode:
    """An instance folder on ``database_url`` (config written here), its app in this process
    (to make people), and gunicorn serving it: ``with GunicornNode(...) as node: ...``."""

    def __init__(self, folder: Path, database_url: str, **config):
        from core.app import create_app
        from core.extensions import db

        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        settings = {"SECRET_KEY": secrets.token_urlsafe(48), "SQLALCHEMY_DATABASE_URI": database_url,
                    "KEY_SHARE_DIR": str(folder / "shm"), "PLUGINS": []} | config
        (folder / "shm").mkdir(exist_ok=True)
        (folder / "config.py").write_text("".join(f"{k} = {v!r}\n" for k, v in settings.items()))
        self.app = create_app({"INSTANCE_PATH": str(folder)})
        with self.app.app_context():
            db.create_all()
        self.port = free_port()
        self.logs = [folder / "gunicorn-error.log", folder / "stdout.log", folder / "stderr.log"]
        self.process: subprocess.Popen | None = None

    def make_person(self, username: str, role: str = "member"):
        from core.testing import add_person

        with self.app.test_request_context():
            return add_person(username, role)

    def __enter__(self) -> GunicornNode:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self._out, self._err = self.logs[1].open("ab"), self.logs[2].open("ab")
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "python:core.gunicorn_conf", "--workers", "2",
             "--bind", f"127.0.0.1:{self.port}", "--error-logfile", str(self.logs[0]),
             "--log-level", "debug", "core.wsgi:app"],
            cwd=ROOT, stdout=self._out, stderr=self._err,
            env=dict(os.environ, RABITA_INSTANCE_PATH=str(self.folder)),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn did not start: " + self.logs[0].read_text()[-2000:])
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                return self
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not answer within 30 s")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._err.close()
        from core.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def client(self, forwarded_for: str | None = None, user_agent: str = "test") -> Client:
        return Client(self.port, forwarded_for, user_agent)


class Client:
    """One browser: its cookies, and (behind the pretend proxy) its address."""

    def __init__(self, port: int, forwarded_for: str | None, user_agent: str):
        self.port, self.forwarded_for, self.user_agent = port, forwarded_for, user_agent
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"User-Agent": self.user_agent}
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["expires"] and "1970" in morsel["expires"] or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response, text

    def submit(self, path: str, form: dict, page: str | None = None):
        _response, text = self.request("GET", page or path)
        token = TOKEN.search(text).group(1)
        return self.request("POST", path, {**form, "csrf_token": token})
