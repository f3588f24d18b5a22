"""The cases pages at 100,000 cases, served by gunicorn (2 workers) on 127.0.0.1.

    python -m bench.cases [--cases 100000] [--database sqlite|postgresql|both] [--before REV]

For each database: a node with N fictional cases (generated once, then kept under .bench/
for later runs), a documenter signed in with her password and second factor, and for each
page 5 warm-up then 50 timed requests, one at a time. Prints p50 and p95 in ms for the first
list page with its total count, a later page (page 1,000, reached as she reaches it: by the
previous page's Next link; and, for comparison, asked for by its number alone), a filtered
list, a selective search (a word in 20 cases) and a broad search (a word in nearly every
case), and the resident memory of each worker. A page with no list (her account page:
session, user, rendering) is measured first, as the baseline of the same run. Targets: list
and selective search p95 ≤ 20 ms, every search ≤ 100 ms, ≤ 150 MB per worker.

``--before REV`` (repeatable): the same pages served by the code of an earlier commit, in the
same run — its files taken with ``git archive`` under .bench/, its own node built by its own
code with the same cases, served by its own gunicorn at the same time as today's — and each
page's requests go to each code in turn, the order flipping every request, so that the load
of the moment weighs on both alike (a code measured after the other, even in alternating
rounds, met another machine: ratios moved by 2x between runs). Three rounds (``--rounds``),
each with servers started afresh; the table then gives each p95 as the median of its rounds,
and now / then.

Beside each page's times: the CPU its two workers spent per request (from each worker's
``/proc/<pid>/task/*/schedstat``, over the timed requests). On a machine others load, a
request's wall time is mostly waiting for a core; the CPU it took is what the code costs, and
compares across codes even then.
"""

from __future__ import annotations

import argparse
import html
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".bench"
PASSWORD = "benchmark password 2026"  # noqa: S105 - a throw-away local benchmark node
PASSPHRASE = "benchmark node passphrase, local only"  # noqa: S105
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - fictional, local only
RARE_WORD = "zanzibarine"
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next"')


def pages(count: int) -> dict[str, str]:
    """The pages measured; the later page is 1,000 (of about 3,800 the documenter sees at
    100,000 cases, 25 a page), or halfway through a smaller list."""
    later = max(2, min(1000, count * 95 // 100 // 25 // 2))
    return {
        "baseline: her account page (no list)": "/account/",
        "list, first page with its total": "/cases/",
        f"list, a later page ({later:,}: page {later - 1:,}'s Next link)":
            f"next of /cases/?page={later - 1}",
        f"list, a page by its number alone ({later:,})": f"/cases/?page={later}",
        "filtered list (status and violation)": "/cases/?status=open&violation=travel-ban",
        # Words are posted with the CSRF token, never put in an address
        # (docs/confidentiality.md).
        f"selective search (20 cases: {RARE_WORD})": f"post /cases/ q={RARE_WORD}",
        "broad search (nearly every case: tunisie)": "post /cases/ q=tunisie",
    }


WARM_UP, TIMED = 5, 50


def code_of(rev: str | None) -> Path:
    """Where the code serving a node is: this tree, or an earlier commit's files (taken once)."""
    if rev is None:
        return ROOT
    folder = STATE / f"code-{rev}"
    if not (folder / "core").exists():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def rabita(instance: Path, env: dict, *args: str, code: Path = ROOT) -> str:
    result = subprocess.run([sys.executable, "-m", "core.cli", "--instance", str(instance), *args],
                            cwd=code, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"rabita {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare(database: str, count: int, rev: str | None = None) -> tuple[Path, dict]:
    code = code_of(rev)
    folder = STATE / (f"cases-{database}-{count}" + (f"-{rev}" if rev else ""))
    instance = folder / "node"
    env = dict(os.environ, RABITA_KEY_SHARE_DIR='""', RABITA_BENCH_CODE=str(code))
    if database == "postgresql":
        url = os.environ.get("RABITA_TEST_POSTGRES_URL",
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"bench_cases_{count}" + (f"_{rev}" if rev else "")
        env["RABITA_SQLALCHEMY_DATABASE_URI"] = f'"{url}?options=-csearch_path%3D{schema}"'
    ready = folder / "ready"
    if ready.exists():
        return instance, env
    if database == "postgresql":
        _reset_schema(url, schema)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "password").write_text(PASSWORD + "\n")
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    if instance.exists():
        subprocess.run(["rm", "-rf", str(instance)], check=True)
    rabita(instance, env, "init", "--admin", "nour", "--admin-password-file",
           str(folder / "password"), "--passphrase-file", str(folder / "passphrase"),
           "--plugin", "plugins.cases", "--plugin", "plugins.country_tn", code=code)
    rabita(instance, env, "users", "create", "salma", "--role", "documenter",
           "--password-file", str(folder / "password"), code=code)
    started = time.perf_counter()
    rabita(instance, env, "cases", "sample", str(count), "--seed", "1",
           "--passphrase-file", str(folder / "passphrase"), code=code)
    print(f"  generated {count:,} cases in {time.perf_counter() - started:,.0f} s")
    _finish(instance, env, folder)
    ready.write_text("ok\n")
    return instance, env


def _finish(instance: Path, env: dict, folder: Path) -> None:
    """Her second factor, 20 cases with a rare word, then fresh planner statistics."""
    script = f"""
import os, random
os.environ["RABITA_INSTANCE_PATH"] = {str(instance)!r}
from core import keystore
from core.app import create_app
from core.extensions import db
from core.users import find
from plugins.cases import sample, search, store
from sqlalchemy import text
app = create_app()
with app.app_context():
    keystore.keystore().unlock_here({PASSPHRASE!r})
    find("salma").totp_secret = {TOTP_SECRET!r}
    db.session.commit()
    rng = random.Random(99)
    for _ in range(20):
        case = sample.build(rng)
        case.summary += " {RARE_WORD}"
        store.save(case, None)
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    else:
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
"""
    for key, value in env.items():
        if key.startswith("RABITA_"):
            os.environ[key] = value
    subprocess.run([sys.executable, "-c", script], cwd=env["RABITA_BENCH_CODE"], env=env,
                   check=True)


def _reset_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


class Browser:
    """Just enough of a browser: one keep-alive connection and its cookies."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, dict]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for cookie in response.headers.get_all("Set-Cookie") or []:  # session, visit, device
            name, value = cookie.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        return response.status, text, dict(response.getheaders())

    def submit(self, path: str, form: dict) -> int:
        _status, page, _headers = self.request("GET", path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        return self.request("POST", path, {**form, "csrf_token": token})[0]


def sign_in(browser: Browser) -> None:
    """Password, then second factor. A node just started may still be unlocking (its second
    factors are sealed under the node key) and a code is taken once: on a refusal, try again
    with the next code, three times at most."""
    import pyotp

    for attempt in range(3):
        if attempt:
            time.sleep(31 - time.time() % 30)  # the next code
        browser.submit("/login", {"username": "salma", "password": PASSWORD})
        browser.submit("/login/code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
        status, page, _ = browser.request("GET", "/cases/")
        if status == 200 and "/cases/new" in page:
            return
    raise SystemExit(f"Signing in failed ({status}).")


def serve(instance: Path, env: dict) -> tuple[subprocess.Popen, int]:
    folder = instance.parent
    return gunicorn(instance, dict(env, RABITA_PASSPHRASE_FILE=f'"{folder / "passphrase"}"'),
                    "--no-control-socket")


def gunicorn(instance: Path, env: dict, *options: str) -> tuple[subprocess.Popen, int]:
    """gunicorn with two workers serving ``instance`` on a free port of 127.0.0.1 (with
    ``options`` first), once it answers (the sign-in benchmark starts its node here too)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), *options, "--workers", "2", "--bind",
         f"127.0.0.1:{port}", "--log-level", "warning", "core.wsgi:app"],
        cwd=env.get("RABITA_BENCH_CODE", ROOT), env=dict(env, RABITA_INSTANCE_PATH=str(instance)))
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def measure(served: dict, count: int) -> dict:
    """For each code in ``served`` ({code: (server, port)}, every node served at once): per
    page, p50 and p95 in ms, what the list says it holds, and the workers' CPU ms per timed
    request. Each request of a page goes to every code in turn, the order flipping from one
    request to the next, so that a machine others load weighs on each code alike."""
    browsers = {code: Browser(port) for code, (_server, port) in served.items()}
    for browser in browsers.values():
        sign_in(browser)
    figures: dict = {code: {} for code in served}
    for label, path in pages(count).items():
        asked = {code: _asked(browser, path) for code, browser in browsers.items()}
        times: dict = {code: [] for code in served}
        cpu_before, last, order = {}, {}, list(served)
        for number in range(WARM_UP + TIMED):
            if number == WARM_UP:
                cpu_before = {code: workers_cpu(server) for code, (server, _) in served.items()}
            for code in order if number % 2 else order[::-1]:
                method, target, form = asked[code]
                start = time.perf_counter()
                status, last[code], _ = browsers[code].request(method, target, form)
                elapsed = time.perf_counter() - start
                if status != 200:
                    raise SystemExit(f"{target} answered {status}")
                if number >= WARM_UP:
                    times[code].append(elapsed * 1000)
        for code, (server, _port) in served.items():
            cpu = (workers_cpu(server) - cpu_before[code]) * 1000 / TIMED
            shown = re.search(r'<p class="count">\s*([^<·]+)', last[code])
            ordered = sorted(times[code])
            figures[code][label] = (statistics.median(ordered),
                                    ordered[int(len(ordered) * 0.95) - 1],
                                    shown.group(1).strip() if shown else "", cpu)
    return figures


def _asked(browser: Browser, path: str) -> tuple[str, str, dict | None]:
    """The method, address and form of a page as ``pages`` names it."""
    if path.startswith("next of "):
        path = _next_link(browser, path.removeprefix("next of "))
    if path.startswith("post "):
        path, words = path.removeprefix("post ").split(" q=")
        return "POST", path, {"q": words, "csrf_token": _csrf_token(browser, path)}
    return "GET", path, None


def _csrf_token(browser: Browser, path: str) -> str:
    _status, page, _ = browser.request("GET", path)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _next_link(browser: Browser, path: str) -> str:
    """Where a page's Next link leads (as a documenter paging through the list gets there)."""
    _status, page, _ = browser.request("GET", path)
    return html.unescape(NEXT_LINK.search(page).group(1))


def workers(server: subprocess.Popen) -> list[str]:
    return Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()


def workers_cpu(server: subprocess.Popen) -> float:
    """Seconds of CPU the server's workers have run so far, all their threads."""
    total = 0
    for pid in workers(server):
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])  # ns on a core
    return total / 1e9


def worker_memory(server: subprocess.Popen) -> list[float]:
    sizes = []
    for pid in workers(server):
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--before", action="append", default=[], metavar="REV",
                        help="also serve the pages with the code of this commit")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of each code when comparing with --before")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for database in databases:
        print(f"\n{database}, {args.cases:,} cases, gunicorn with 2 workers on 127.0.0.1")
        if args.before:
            compare(database, args.cases, args.before, args.rounds)
            continue
        figures, memory = measure_served({None: prepare(database, args.cases)}, args.cases)
        figures, memory = figures[None], memory[None]
        print(f"  {'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8}  shown")
        for label, (p50, p95, shown, cpu) in figures.items():
            print(f"  {label:<48} {p50:>8.1f} {p95:>8.1f} {cpu:>8.2f}  {shown}")
        print("  resident memory per worker: " + ", ".join(f"{m:.0f} MB" for m in memory))


def measure_served(nodes: dict, count: int) -> tuple[dict, dict]:
    """Serve every node of ``nodes`` ({code: (instance, env)}) at once and measure them
    together: figures and each worker's memory, by code."""
    served = {}
    try:
        for code, (instance, env) in nodes.items():
            served[code] = serve(instance, env)
        figures = measure(served, count)
        return figures, {code: worker_memory(server) for code, (server, _) in served.items()}
    finally:
        for server, _port in served.values():
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def compare(database: str, count: int, befores: list[str], rounds: int) -> None:
    """Today's code and each earlier one serve their own node, all at once, ``rounds`` times
    (each time a fresh start of every server)."""
    codes = [None, *befores]
    nodes = {rev: prepare(database, count, rev) for rev in codes}
    p95s: dict = {rev: {} for rev in codes}
    cpus: dict = {rev: {} for rev in codes}
    for _ in range(rounds):
        figures, memory = measure_served(nodes, count)
        for rev in codes:
            for label, (_p50, p95, _shown, cpu) in figures[rev].items():
                p95s[rev].setdefault(label, []).append(p95)
                cpus[rev].setdefault(label, []).append(cpu)
    heads = "".join(f" {rev or 'now':>10}" for rev in codes)
    for title, figures in ((f"p95 ms, median of {rounds} rounds", p95s),
                           (f"workers' CPU ms a request, median of {rounds} rounds", cpus)):
        print(f"  {title:<54}{heads}  now / then (< 1: faster now)")
        for label in pages(count):
            values = [statistics.median(figures[rev][label]) for rev in codes]
            ratios = ", ".join(f"{values[0] / value:.2f}" for value in values[1:])
            print(f"  {label:<54}" + "".join(f" {value:>10.1f}" for value in values) +
                  f"  {ratios}")
    print("  resident memory per worker: " + "; ".join(
        f"{rev or 'now'} " + ", ".join(f"{m:.0f} MB" for m in memory[rev]) for rev in codes))


if __name__ == "__main__":
    main()
