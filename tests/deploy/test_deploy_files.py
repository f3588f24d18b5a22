"""The deployment files in deploy/ are what they say: systemd accepts the units (with this
checkout's virtual environment in place of /srv/rabita/venv), the commands they run exist,
nginx accepts the site, and a request through that nginx, over TLS, reaches a node served by
gunicorn exactly as the unit starts it, with no client address in any log."""

from __future__ import annotations

import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.testing import missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV = Path(sys.executable).parent.parent
UNITS = sorted((DEPLOY / "systemd").iterdir())


def installed(units: list[Path], folder: Path) -> list[Path]:
    """The units as installed on this machine: this checkout's environment for /srv/rabita."""
    copies = []
    for unit in units:
        copy = folder / unit.name
        copy.write_text(unit.read_text().replace("/srv/rabita/venv", str(VENV))
                        .replace("/srv/rabita/instance", str(folder)))
        copies.append(copy)
    return copies


def test_systemd_accepts_every_unit(tmp_path):
    if shutil.which("systemd-analyze") is None:
        missing("systemd-analyze is not installed (apt-get install systemd)")
    result = subprocess.run(["systemd-analyze", "verify", *map(str, installed(UNITS, tmp_path))],
                            capture_output=True, text=True, check=False)
    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if str(tmp_path) in line or "rabita" in line]
    assert result.returncode == 0 and not ours, result.stdout + result.stderr


def test_a_unit_with_a_mistake_is_refused(tmp_path):
    """The check above can fail: a misspelt key and a missing program are reported."""
    if shutil.which("systemd-analyze") is None:
        missing("systemd-analyze is not installed (apt-get install systemd)")
    [unit] = installed([DEPLOY / "systemd" / "rabita.service"], tmp_path)
    unit.write_text(unit.read_text().replace("gunicorn -c", "gunicorm -c")
                    .replace("PrivateTmp=", "PrivateTemp="))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, check=False)
    said = result.stdout + result.stderr
    assert "gunicorm" in said and "PrivateTemp" in said


def test_every_timer_starts_a_unit_that_is_there():
    names = {unit.name for unit in UNITS}
    for timer in (unit for unit in UNITS if unit.suffix == ".timer"):
        assert timer.with_suffix(".service").name in names


def _node(folder: Path):
    from federation.testing import Node

    return Node("deployed", folder / "instance", f"sqlite:///{folder / 'node.db'}", "node",
                ["federation"], folder)


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda u: u.name)
def test_the_command_a_unit_runs_exists(unit, tmp_path):
    """The rabita command each unit runs (its subcommand and options) is one the CLI knows,
    on a node's instance folder."""
    [command] = [line.split("=", 1)[1] for line in unit.read_text().splitlines()
                 if line.startswith("ExecStart=")]
    words = shlex.split(command)
    program = VENV / "bin" / Path(words[0]).name
    assert program.exists(), program
    if program.name == "rabita":
        node = _node(tmp_path)
        result = subprocess.run([str(program), *words[1:], "--help"], capture_output=True,
                                text=True, check=False, cwd=ROOT,
                                env={"PATH": "/usr/bin:/bin",
                                     "RABITA_INSTANCE_PATH": str(node.folder)})
        node.close()
        assert result.returncode == 0, result.stdout + result.stderr


def test_no_log_names_a_client():
    site = (DEPLOY / "nginx" / "rabita.conf").read_text()
    active = [line.split("#", 1)[0].strip() for line in site.splitlines()]
    assert "access_log off;" in active and "server_tokens off;" in active
    assert all("$remote_addr" not in line or line.startswith("proxy_set_header X-Forwarded-For")
               for line in active)
    assert all(line.endswith(" crit;") for line in active if line.startswith("error_log"))
    unit = (DEPLOY / "systemd" / "rabita.service").read_text()
    assert "--access-logfile" not in unit and "python:core.gunicorn_conf" in unit


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        missing("openssl is not installed")
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _site(folder: Path, https: int, http: int, upstream: int) -> Path:
    """deploy/nginx/rabita.conf with this test's ports, certificate and log folder, inside an
    nginx.conf of its own (nothing of /etc/nginx is read)."""
    cert, key = _certificate(folder)
    site = (DEPLOY / "nginx" / "rabita.conf").read_text()
    for old, new in (("listen 443", f"listen 127.0.0.1:{https}"),
                     ("listen [::]:443 ssl http2;", ""), ("listen [::]:80;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{http};"),
                     ("127.0.0.1:8000", f"127.0.0.1:{upstream}"),
                     ("/etc/ssl/rabita/fullchain.pem", str(cert)),
                     ("/etc/ssl/rabita/privkey.pem", str(key)),
                     ("/var/log/nginx/", f"{folder}/")):
        assert old in site, old
        site = site.replace(old, new)
    (folder / "rabita.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(f"pid {folder}/nginx.pid;\nerror_log {folder}/main-error.log crit;\n"
                    "user root;\nevents {}\n"
                    f"http {{\n  access_log {folder}/default-access.log;\n"
                    f"  client_body_temp_path {folder}/body;\n"
                    f"  proxy_temp_path {folder}/proxy;\n"
                    f"  include {folder}/rabita.conf;\n}}\n")
    return main


def test_nginx_accepts_the_site(tmp_path):
    if shutil.which("nginx") is None:
        missing("nginx is not installed (apt-get install nginx-light)")
    conf = _site(tmp_path, _free_port(), _free_port(), 8000)
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_a_request_through_nginx_reaches_the_node_and_no_log_names_the_client(tmp_path):
    if shutil.which("nginx") is None:
        missing("nginx is not installed (apt-get install nginx-light)")
    node = _node(tmp_path)
    upstream, https, http = _free_port(), _free_port(), _free_port()
    [command] = [line.split("=", 1)[1] for line in
                 (DEPLOY / "systemd" / "rabita.service").read_text().splitlines()
                 if line.startswith("ExecStart=")]
    words = [str(VENV / "bin" / "gunicorn"), *shlex.split(command)[1:]]
    words[words.index("--bind") + 1] = f"127.0.0.1:{upstream}"
    gunicorn_log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(words, cwd=ROOT, stdout=gunicorn_log, stderr=gunicorn_log,
                              env={"PATH": "/usr/bin:/bin",
                                   "RABITA_INSTANCE_PATH": str(node.folder)})
    conf = _site(tmp_path, https, http, upstream)
    proxy = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(conf), "-g",
                              "daemon off;"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    context = ssl.create_default_context(cafile=str(tmp_path / "fullchain.pem"))
    context.check_hostname = False
    try:
        answer = None
        for _ in range(100):
            try:
                answer = urllib.request.urlopen(  # noqa: S310 - 127.0.0.1, our test server
                    f"https://127.0.0.1:{https}/.well-known/rabita", context=context, timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        assert answer is not None and answer.status == 200
        answer.close()
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert answer.headers.get("Server") == "nginx"  # no version, nor gunicorn's
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"https://127.0.0.1:{https}/no/such/page",  # noqa: S310
                                   context=context, timeout=5)
        assert refused.value.code == 404
        refused.value.close()
    finally:
        proxy.terminate(), server.terminate()
        proxy.wait(timeout=10), server.wait(timeout=30)
        gunicorn_log.close()
        node.close()
    logs = [path for path in tmp_path.rglob("*.log")]
    assert not (tmp_path / "default-access.log").exists() or \
        not (tmp_path / "default-access.log").read_text()
    for log in logs:
        assert "127.0.0.1" not in log.read_text(errors="replace"), log
