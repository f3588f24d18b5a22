"""Every page a documenter's day visits, in real Chromium, in Arabic and French, at 1280 and
375 px wide: no sideways scrolling, no raw code or English string where her language has
words (checked against the catalogues and the vocabularies), and no serious or critical
accessibility violation (axe-core, from its npm package installed by `make axe`: no network).
And mixed-direction samples read right: a phone number in Arabic, a reference, an Arabic name
in French, a Latin name in Arabic — by where their parts land and by screenshots compared with
reviewed references (tests/plugins/cases/bidi/*.png)."""

from __future__ import annotations

import base64
import re
import secrets
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core import wording
from core.extensions import db
from core.models import ServerSession
from core.sessions import token_hash
from core.testing import screenshot
from tools import catalogs

from .conftest import case_form

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
REFERENCES = Path(__file__).parent / "bidi"
NAME, PHONE, LATIN = "سلمى بن علي", "+216 98 123 456", "Salma Ben Ali"
WIDTHS = (1280, 375)


def signed_in(app, context, base_url: str, user) -> None:
    """Give the browser a real server-side session of ``user`` (as ``login_as`` does)."""
    from core import clock

    token = secrets.token_urlsafe(32)
    now = clock.now()
    with app.app_context():
        db.session.add(ServerSession(
            token_hash=token_hash(token), user_id=user.id,
            data=f'{{"_user_id": "{user.id}", "_fresh": true}}', created_at=now,
            last_seen_at=now))
        db.session.commit()
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": token,
                          "url": base_url}])


def write_case(app, login_as, author) -> str:
    client = login_as(author)
    form = case_form(**{
        "title": "استدعاء بعد مقابلة إذاعية", "summary": f"اتصلي بها على {PHONE} بعد الظهر.",
        "defender-pseudonym": "زيتونة", "defender-real_name": NAME,
        "defender-contacts": f"{PHONE} salma@example.org",
        "incidents-0-narrative": f"استجوب {LATIN} ست ساعات.",
    })
    response = client.submit("/cases/new", form)
    uuid = response.location.rstrip("/").rsplit("/", 1)[1]
    client.submit(f"/records/cases.case/{uuid}/consent", {
        "given_by": "defender", "method": "oral", "audiences": ["hub", "peers"],
        "purposes": ["advocacy"], "obtained_on": "2025-03-20", "expires_on": ""})
    return uuid


def pages(uuid: str) -> list[str]:
    return ["/", "/cases/", "/cases/new", f"/cases/{uuid}",
            f"/records/cases.case/{uuid}/consent", f"/records/cases.case/{uuid}/review",
            "/help", "/account", "/admin/audit", "/cases/find"]


def known_codes(app) -> set[str]:
    """Codes people must never read: vocabulary term codes, audiences, purposes, reasons."""
    from core.forms import AUDIENCE_LABELS, PURPOSE_LABELS
    from plugins.cases.forms import LABELLED

    codes = {term.code for vocab in app.extensions["rabita.vocabularies"].values()
             for term in vocab if "-" in term.code}
    codes |= set(AUDIENCE_LABELS) | set(PURPOSE_LABELS) | set(wording.SHAREABILITY_SENTENCES)
    codes |= set(wording.ENDED_LABELS)
    for labels in LABELLED.values():
        codes |= {code for code in labels if "-" in code}
    return codes


def english_phrases(locale: str) -> set[str]:
    """Every message of several words the code and templates say (extracted from the source,
    as `make extract` does: a string not in a catalogue yet counts too), as English: it must
    not appear where the page speaks ``locale``. A phrase that is also part of a translation
    (a name kept as it is) does not count."""
    found, translated = set(), []
    for package in catalogs.packages():
        path = catalogs.po_path(package, locale)
        if path.exists():
            with path.open("rb") as file:
                translated += [_singular(m.string) for m in read_po(file) if m.string]
        for message in catalogs.extract(package):
            for part in re.split(r"%\(\w+\)[sd]|%[sd]|<[^>]+>", _singular(message.id) or ""):
                part = part.strip(" .,:;·—()")
                if len(part.split()) >= 3:
                    found.add(part)
    every = "\n".join(translated)
    return {phrase for phrase in found if phrase not in every}


def _singular(value):
    return value[0] if isinstance(value, tuple) else value


def visit(page, url: str, width: int) -> dict:
    """Open ``url`` and measure what this test checks."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(url)
    page.wait_for_load_state("load")
    scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    text = page.evaluate("document.body.innerText")
    return {"scroll": scroll, "text": text}


def serious_violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    results = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return results


@pytest.mark.parametrize("locale", ["ar", "fr"])
def test_every_page_reads_in_her_language_fits_a_phone_and_is_accessible(
        app, make_user, login_as, live_server, chromium_browser, locale):
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make axe` (npm install in tests/axe)")
    axe_source = AXE.read_text()
    nour = make_user(f"nour{locale}", role="admin", locale=locale)
    uuid = write_case(app, login_as, make_user("salma", role="documenter"))
    codes, english = known_codes(app), english_phrases(locale)
    problems = []
    with live_server(app) as server:
        # bypass_csp: axe is evaluated into the page; the pages' own policy stays as served.
        context = chromium_browser.new_context(bypass_csp=True)
        signed_in(app, context, server.url, nour)
        page = context.new_page()
        for width in WIDTHS:
            for path in pages(uuid):
                seen = visit(page, server.url + path, width)
                where = f"{path} at {width}px"
                scroll_width, inner = seen["scroll"]
                if scroll_width > inner:
                    problems.append(f"{where}: scrolls sideways ({scroll_width} > {inner})")
                for code in codes:
                    if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", seen["text"]):
                        problems.append(f"{where}: the code {code!r} is shown")
                for phrase in english:
                    if phrase in seen["text"]:
                        problems.append(f"{where}: English {phrase!r}")
                if width == 375:
                    slug = path.strip("/").split("/")[0].replace(".", "-") or "home"
                    screenshot(page, f"phone-{locale}-{slug}-{len(path)}")
                if width == WIDTHS[0]:
                    problems += [f"{where}: {v}" for v in serious_violations(page, axe_source)]
        context.close()
    assert problems == [], "\n".join(problems)


SAMPLES = {
    # name: (page language, text as written)
    "phone-in-arabic": ("ar", f"هاتفها {PHONE} في المساء"),
    "reference-in-arabic": ("ar", "راجعي الحالة C-0A1B-2C3D اليوم"),
    "arabic-name-in-french": ("fr", f"Le témoignage de {NAME} a été relu."),
    "latin-name-in-arabic": ("ar", f"وصلت {LATIN} إلى صفاقس."),
}


def sample_html(locale: str, text: str) -> str:
    css = (ROOT / "core" / "static" / "rabita.css").read_text()
    direction = "rtl" if locale == "ar" else "ltr"
    return (f'<!doctype html><html lang="{locale}" dir="{direction}"><head><style>{css}'
            "body{margin:0;background:#fff} #s{display:inline-block;padding:8px;"
            'font-size:20px;white-space:nowrap}</style></head><body><p id="s" class="prose">'
            f"{wording.bidi(text)}</p></body></html>")


def _x(page, needle: str) -> float:
    """Where ``needle`` starts on screen (its left edge), in the sample."""
    return page.evaluate("""needle => {
        const walker = document.createTreeWalker(document.getElementById('s'),
                                                 NodeFilter.SHOW_TEXT);
        for (let node; (node = walker.nextNode());) {
          const at = node.data.indexOf(needle);
          if (at < 0) continue;
          const range = document.createRange();
          range.setStart(node, at); range.setEnd(node, at + needle.length);
          return range.getBoundingClientRect().left;
        }
        return null;
    }""", needle)


def differing_share(page, reference: bytes, taken: bytes) -> float:
    """The share of pixels that differ by more than a little, compared in a canvas."""
    return page.evaluate("""async ([a, b]) => {
        const load = src => new Promise(ok => { const i = new Image(); i.onload = () => ok(i);
                                                  i.src = 'data:image/png;base64,' + src; });
        const [x, y] = await Promise.all([load(a), load(b)]);
        if (x.width !== y.width || x.height !== y.height) return 1;
        const pixels = img => { const c = document.createElement('canvas');
          c.width = img.width; c.height = img.height; const g = c.getContext('2d');
          g.drawImage(img, 0, 0); return g.getImageData(0, 0, c.width, c.height).data; };
        const p = pixels(x), q = pixels(y);
        let differ = 0;
        for (let i = 0; i < p.length; i += 4) {
          if (Math.abs(p[i] - q[i]) + Math.abs(p[i+1] - q[i+1]) + Math.abs(p[i+2] - q[i+2]) > 96)
            differ++;
        }
        return differ / (p.length / 4);
    }""", [base64.b64encode(reference).decode(), base64.b64encode(taken).decode()])


def test_mixed_direction_samples_read_right(chromium_browser):
    context = chromium_browser.new_context(device_scale_factor=1)
    page = context.new_page()
    missing = []
    for name, (locale, text) in SAMPLES.items():
        page.set_content(sample_html(locale, text))
        if name == "phone-in-arabic":  # read left to right: +216 first, 456 last
            assert _x(page, "+216") < _x(page, "98") < _x(page, "123") < _x(page, "456")
        if name == "reference-in-arabic":
            assert _x(page, "C-0A1B") < _x(page, "2C3D")
        if name == "arabic-name-in-french":  # the French sentence keeps its order around it
            assert _x(page, "Le témoignage") < _x(page, "سلمى") < _x(page, "a été relu")
        if name == "latin-name-in-arabic":  # right to left around a left-to-right name
            assert _x(page, "إلى") < _x(page, LATIN) < _x(page, "وصلت")
            assert _x(page, "Salma") < _x(page, "Ali")
        taken = page.locator("#s").screenshot()
        reference = REFERENCES / f"{name}.png"
        if not reference.exists():  # a new sample: written for a person to look at and commit
            REFERENCES.mkdir(exist_ok=True)
            reference.write_bytes(taken)
            missing.append(name)
            continue
        assert differing_share(page, reference.read_bytes(), taken) < 0.02, name
    context.close()
    assert missing == [], "new references written: look at them before committing"
