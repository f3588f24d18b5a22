"""The library's search at 100,000 resources (~3 KB each, Arabic, French and English), in-app and
through gunicorn (2 workers, 127.0.0.1), on SQLite and PostgreSQL.

    python -m bench.knowledge [--entries 100000] [--database sqlite|postgresql|both]
                              [--runs 50] [--no-gunicorn]

For a quick run: ``--entries 5000 --runs 20``. The catalogue (made once per size and database,
then kept under .bench/; PostgreSQL in a schema of its own) is generated text: each language a
vocabulary of 20,000 words drawn with Zipf's law (Arabic words with and without clitics, some
spelled with and some without hamza or taa marbuta), Markdown headings, lists and links.
Planted: a rare word in 20 entries, a word in 1 % of them, an Arabic word (ة spelling) in 1 %
of the Arabic ones — searched as spelled with ه —, and a word in 90 % of them.

Prints the index build rate (entries a second: words, stems and the index rows written, in
batches of 1,000 in one transaction each, as a rebuild does), then for each query 5 warm-up and
``--runs`` timed searches, one at a time: p50 and p95 in ms of ``search.results`` (ranking,
the page's 20 entries and their snippets) in the process, and of the library page with the
query through gunicorn (signed in, as a reader). Targets: p95 ≤ 50 ms in-app, ≤ 100 ms
through gunicorn. Bounded: entries are written in batches (memory stays flat), every query
has a fixed number of runs, and a request times out after 60 s.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import create_engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".bench"
PASSWORD = "benchmark password 2026"  # noqa: S105 - a throw-away local benchmark node
PASSPHRASE = "benchmark node passphrase, local only"  # noqa: S105
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - fictional, local only
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 1000
WARM_UP = 5
RARE, ONE_PERCENT, BROAD = "zanzibarine", "ouarzazate", "coalition"
ARABIC_PLANTED, ARABIC_QUERY = "المناصرة", "المناصره"
QUERIES = {
    f"selective (20 entries: {RARE})": RARE,
    f"1 % of entries ({ONE_PERCENT})": ONE_PERCENT,
    f"1 % of Arabic entries ({ARABIC_QUERY}, written {ARABIC_PLANTED})": ARABIC_QUERY,
    f"broad (90 % of entries: {BROAD})": BROAD,
    "two words (broad and 1 %)": f"{BROAD} {ONE_PERCENT}",
}
KINDS = ("guide", "report", "toolkit", "training", "legal_analysis", "statement", "safety_advice")
AUDIENCES = ("node", "coalition", "public")

# -- generated text ----------------------------------------------------------------------------

SEEDS = {
    "fr": [
        "droits",
        "défenseure",
        "défenseures",
        "sécurité",
        "numérique",
        "protection",
        "avocate",
        "justice",
        "femmes",
        "violence",
        "rapport",
        "enquête",
        "témoignage",
        "harcèlement",
        "surveillance",
        "liberté",
        "expression",
        "association",
        "procès",
        "prison",
        "juge",
        "police",
        "téléphone",
        "chiffrement",
        "réseau",
        "solidarité",
    ],
    "en": [
        "rights",
        "defender",
        "defenders",
        "security",
        "digital",
        "protection",
        "lawyer",
        "justice",
        "women",
        "violence",
        "report",
        "inquiry",
        "testimony",
        "harassment",
        "surveillance",
        "freedom",
        "expression",
        "association",
        "trial",
        "prison",
        "judge",
        "police",
        "phone",
        "encryption",
        "network",
        "solidarity",
    ],
    "ar": [
        "حقوق",
        "المدافعات",
        "الأمن",
        "الرقمي",
        "حماية",
        "محامية",
        "العدالة",
        "النساء",
        "العنف",
        "تقرير",
        "تحقيق",
        "شهادة",
        "التحرش",
        "المراقبة",
        "الحرية",
        "التعبير",
        "جمعية",
        "محاكمة",
        "السجن",
        "القاضي",
        "الشرطة",
        "الهاتف",
        "التشفير",
        "الشبكة",
        "التضامن",
        "مسؤولية",
        "مستشفى",
    ],
}
LATIN_SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "fa",
    "fe",
    "fi",
    "fo",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "su",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "ve",
    "vi",
    "qu",
    "ch",
    "an",
    "en",
    "in",
    "on",
    "er",
    "ar",
    "ir",
    "or",
    "és",
    "é",
    "è",
    "ou",
    "ai",
]
ARABIC_LETTERS = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"
ARABIC_PATTERNS = (
    "{0}{1}{2}",
    "{0}ا{1}{2}",
    "م{0}{1}{2}",
    "{0}{1}ي{2}",
    "م{0}ا{1}{2}ة",
    "{0}{1}{2}ات",
    "ت{0}{1}ي{2}",
    "{0}{1}و{2}",
    "م{0}{1}{2}ون",
    "{0}ا{1}{2}ة",
)
ARABIC_CLITICS = ("", "", "", "ال", "ال", "و", "وال", "ب", "بال", "ل", "لل", "ف")


def vocabulary(language: str, rng: random.Random, size: int = 20_000) -> list[str]:
    words = list(SEEDS[language])
    seen = set(words)
    while len(words) < size:
        if language == "ar":
            root = [rng.choice(ARABIC_LETTERS) for _ in range(3)]
            word = rng.choice(ARABIC_CLITICS) + rng.choice(ARABIC_PATTERNS).format(*root)
            if rng.random() < 0.05:
                word = "أ" + word if rng.random() < 0.5 else word + "ى"
        else:
            word = "".join(rng.choice(LATIN_SYLLABLES) for _ in range(rng.randint(1, 4)))
            if language == "en":
                word = word.replace("é", "e").replace("è", "e")
        if word not in seen:
            seen.add(word)
            words.append(word)
    rng.shuffle(words[len(SEEDS[language]) :])
    return words


class Writer:
    """Entries of generated text, ~3 KB of body each."""

    def __init__(self, seed: int = 17):
        self.rng = random.Random(seed)
        self.vocab = {lang: vocabulary(lang, self.rng) for lang in ("ar", "fr", "en")}
        self.weights = {lang: list(_cumulative(len(words))) for lang, words in self.vocab.items()}

    def words(self, language: str, count: int) -> list[str]:
        return self.rng.choices(self.vocab[language], cum_weights=self.weights[language], k=count)

    def body(self, language: str, planted: list[str]) -> str:
        parts, size = [], 0
        while size < 3000:
            if self.rng.random() < 0.15:
                line = "## " + " ".join(self.words(language, 4))
            elif self.rng.random() < 0.2:
                line = "\n".join("- " + " ".join(self.words(language, 6)) for _ in range(3))
            else:
                words = self.words(language, self.rng.randint(40, 80))
                if self.rng.random() < 0.2:
                    words[3] = f"[{words[3]}](https://example.org/{self.rng.randrange(10**6)})"
                line = " ".join(words) + "."
            parts.append(line)
            size += len(line) + 2
        for word in planted:
            parts.insert(self.rng.randrange(len(parts) + 1), word)
        return "\n\n".join(parts)

    def entry(self, number: int, planted: list[str]) -> dict:
        language = ("ar", "fr", "en")[number % 3]
        tags = self.rng.sample(self.vocab[language][:200], 3)
        return {
            "id": number,
            "origin": "local" if number % 4 else "node-partner",
            "local": bool(number % 4),
            "record_type": "knowledge.resource",
            "record_uuid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "kind": KINDS[number % len(KINDS)],
            "language": language,
            "title": " ".join(self.words(language, 7)).capitalize(),
            "summary": " ".join(self.words(language, 35)) + ".",
            "body": self.body(language, planted),
            "tags": tags,
            "audience": AUDIENCES[number % 3],
            "byline": "",
            "licence": "cc-by-4.0",
            "published_on": None,
            "updated_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=number),
            "translation_group": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
        }


def _cumulative(size: int):
    total = 0.0
    for rank in range(1, size + 1):
        total += 1.0 / rank
        yield total


def planted(count: int, rng: random.Random) -> dict[int, list[str]]:
    words: dict[int, list[str]] = {}
    numbers = range(1, count + 1)
    for word, share in ((RARE, None), (ONE_PERCENT, 0.01), (BROAD, 0.9)):
        chosen = rng.sample(numbers, 20 if share is None else max(1, int(count * share)))
        for number in chosen:
            words.setdefault(number, []).append(word)
    arabic = [n for n in numbers if n % 3 == 0]
    for number in rng.sample(arabic, max(1, len(arabic) // 100)):
        words.setdefault(number, []).append("و" + ARABIC_PLANTED)
    return words


# -- the node ----------------------------------------------------------------------------------


def instance(database: str, count: int) -> tuple[Path, str]:
    folder = STATE / f"knowledge-{database}-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    if database == "sqlite":
        url = f"sqlite:///{folder / 'rabita.db'}"
    else:
        url = f"{POSTGRES}?options=-csearch_path%3Dbench_knowledge_{count}"
    (folder / "passphrase").write_text(PASSPHRASE + "\n")
    (folder / "config.py").write_text(
        "NODE_NAME = 'bench'\nSECRET_KEY = 'bench-only-not-secret-0123456789abcdef'\n"
        "PLUGINS = ['plugins.knowledge']\n"
        f"SQLALCHEMY_DATABASE_URI = {url!r}\n"
        f"PASSPHRASE_FILE = {str(folder / 'passphrase')!r}\nKEY_SHARE_DIR = None\n"
    )
    return folder, url


def build(database: str, count: int):
    """The node's app, its catalogue filled (once); the build's figures."""
    from core import keystore, users
    from core.app import create_app
    from core.extensions import db

    folder, url = instance(database, count)
    figures_file = folder / "build.json"
    if not figures_file.exists():
        for name in ("rabita.db", "rabita.db-wal", "rabita.db-shm", keystore.KEYRING_FILE):
            (folder / name).unlink(missing_ok=True)
        if database == "postgresql":
            schema = f"bench_knowledge_{count}"
            engine = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            engine.dispose()
        keystore.create_keyring(folder / keystore.KEYRING_FILE, PASSPHRASE)
    app = create_app({"INSTANCE_PATH": str(folder)})
    with app.app_context():
        keystore.keystore().unlock_here(PASSPHRASE)
        if figures_file.exists():
            _tag_rows()
            return app, json.loads(figures_file.read_text())
        from plugins.knowledge import search
        from plugins.knowledge.models import Entry

        db.create_all()
        reader = users.create("salma", PASSWORD, "member")
        reader.totp_secret = TOTP_SECRET
        db.session.commit()
        writer, plants = Writer(), planted(count, random.Random(5))
        generating = indexing = 0.0
        for start in range(1, count + 1, BATCH):
            began = time.perf_counter()
            rows = [
                writer.entry(n, plants.get(n, []))
                for n in range(start, min(count + 1, start + BATCH))
            ]
            db.session.execute(insert(Entry.__table__), rows)
            generated = time.perf_counter()
            search.index_many(SimpleNamespace(**row) for row in rows)
            db.session.commit()
            indexing += time.perf_counter() - generated
            generating += generated - began
            if (start - 1) % (BATCH * 10) == 0:
                print(f"  {start - 1 + len(rows):,} entries written", flush=True)
        if database == "postgresql":
            db.session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('knowledge_entry', "
                    "'id'), (SELECT max(id) FROM knowledge_entry))"
                )
            )
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        figures = {
            "entries": count,
            "index_seconds": indexing,
            "write_seconds": generating,
            "database_bytes": int(_size(database, folder)),
        }
        figures_file.write_text(json.dumps(figures))
        return app, figures


def _tag_rows() -> None:
    """The entries' folded tags (the library's tag filter and popular tags read them), once."""
    from core.extensions import db
    from plugins.knowledge.catalogue import folded_tag
    from plugins.knowledge.models import Entry, EntryTag

    if db.session.scalar(select(EntryTag.id).limit(1)) is not None:
        return
    last = 0
    while True:
        rows = db.session.execute(
            select(Entry.id, Entry.tags).where(Entry.id > last).order_by(Entry.id).limit(5000)
        ).all()
        if not rows:
            break
        db.session.execute(insert(EntryTag.__table__), [
            {"entry_id": entry_id, "tag": tag}
            for entry_id, tags in rows for tag in {folded_tag(t) for t in tags}])
        last = rows[-1][0]
    db.session.commit()


def _size(database: str, folder: Path) -> int:
    from core.extensions import db

    if database == "sqlite":
        return sum(p.stat().st_size for p in folder.glob("rabita.db*"))
    return db.session.execute(
        text(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
    ).scalar()


# -- timing ------------------------------------------------------------------------------------


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def in_app(app, runs: int) -> dict[str, tuple[float, float, str]]:
    from core.extensions import db
    from plugins.knowledge import search
    from plugins.knowledge.models import RESOURCE_KINDS

    figures = {}
    with app.app_context():
        for label, query in QUERIES.items():
            spent, cpu = [], []
            for number in range(WARM_UP + runs):
                began, began_cpu = time.perf_counter(), time.process_time()
                # As the library page asks for a member: the kinds she may read, any audience.
                hits, total = search.results(query, kinds=list(RESOURCE_KINDS))
                if number >= WARM_UP:
                    spent.append((time.perf_counter() - began) * 1000)
                    cpu.append((time.process_time() - began_cpu) * 1000)
                db.session.rollback()  # a request's session ends
            # On a shared machine the wall clock counts other people's work: this process's
            # CPU time is given beside it (SQLite's work is in it; PostgreSQL's server's not).
            p50_cpu, p95_cpu = percentiles(cpu)
            shown = (
                f"CPU {p50_cpu:.1f} / {p95_cpu:.1f} ms; "
                f"{'more than ' if total > search.COUNT_CAP else ''}"
                f"{min(total, search.COUNT_CAP):,} found, {len(hits)} shown"
            )
            figures[label] = (*percentiles(spent), shown)
    return figures


def through_gunicorn(folder: Path, runs: int) -> dict[str, tuple[float, float, str]]:
    import os

    import pyotp

    from bench.cases import Browser, gunicorn

    env = dict(os.environ, RABITA_PASSPHRASE_FILE=f'"{folder / "passphrase"}"')
    server, port = gunicorn(folder, env, "--no-control-socket")
    figures = {}
    try:
        browser = Browser(port)
        browser.submit("/login", {"username": "salma", "password": PASSWORD})
        browser.submit("/login/code", {"code": pyotp.TOTP(TOTP_SECRET).now()})
        status, page, _ = browser.request("GET", "/knowledge/")
        if status != 200:
            raise SystemExit(f"Signing in or the library page failed ({status}).")
        for label, query in QUERIES.items():
            # The library's search box posts its words (never in an address), with its token.
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            form = {"q": query, "csrf_token": token}
            spent = []
            for number in range(WARM_UP + runs):
                began = time.perf_counter()
                status, page, _ = browser.request("POST", "/knowledge/", form)
                if status != 200:
                    raise SystemExit(f"the search {query!r} answered {status}")
                if number >= WARM_UP:
                    spent.append((time.perf_counter() - began) * 1000)
            figures[label] = (
                *percentiles(spent),
                f"{page.count('<mark>')} marks, {len(page) // 1024} KiB",
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return figures


def report(title: str, figures: dict) -> None:
    print(f"  {title}")
    print(f"    {'query':<56} {'p50 ms':>8} {'p95 ms':>8}  result")
    for label, (p50, p95, shown) in figures.items():
        print(f"    {label:<56} {p50:>8.1f} {p95:>8.1f}  {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--no-gunicorn", action="store_true")
    options = parser.parse_args()
    for database in ("sqlite", "postgresql") if options.database == "both" else (options.database,):
        print(f"\n{database}, {options.entries:,} entries")
        app, built = build(database, options.entries)
        print(
            f"  index build: {built['entries'] / built['index_seconds']:,.0f} entries/s "
            f"({built['index_seconds']:,.1f} s; writing the entries themselves "
            f"{built['write_seconds']:,.1f} s); database {built['database_bytes'] / 2**20:,.0f}"
            f" MiB"
        )
        with app.app_context():
            from core.extensions import db
            from plugins.knowledge.models import Entry

            held = db.session.scalar(select(func.count()).select_from(Entry))
        print(f"  entries held: {held:,}")
        report("in-app (search.results: rank, 20 entries, snippets)", in_app(app, options.runs))
        if not options.no_gunicorn:
            report(
                "through gunicorn (POST /knowledge/ q=..., 2 workers)",
                through_gunicorn(instance(database, options.entries)[0], options.runs),
            )


if __name__ == "__main__":
    main()
