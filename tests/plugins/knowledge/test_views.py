"""The library's pages through the test client: browse and filters, tag pages, a resource
with its translations, the editor (preview, bad input), files served as downloads, earlier
versions, the home page's "new in the coalition", and hostile text rendered inert."""

import io
import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from plugins.knowledge.models import Entry, KnowledgeFile, Resource

from .conftest import PDF, PNG, resource_data

XSS = {
    "raw html": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "javascript link": "[clique](javascript:alert(3)) [b](JAVASCRIPT:alert(4))",
    "image handler": '![x](/knowledge/x" onerror="alert(5))',
    "svg": '<svg onload=alert(6)><script>alert(7)</script></svg>',
    "data link": "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==)",
    "remote image": "![pixel](https://tracker.example/p.gif)",
}


def _form(data: dict) -> dict:
    """The editor's fields as a browser posts them."""
    posted = {k: ("" if v is None else v) for k, v in data.items()}
    posted["published_on"] = data["published_on"].isoformat() if data.get("published_on") else ""
    return posted


@pytest.fixture
def people(make_user):
    return {"salma": make_user("salma", role="documenter"),
            "amina": make_user("amina", role="member")}


def test_a_documenter_writes_a_resource_and_a_member_reads_it(app, people, login_as):
    writer = login_as(people["salma"])
    answer = writer.submit("/knowledge/new", _form(resource_data()))
    assert answer.status_code == 302
    page = answer.headers["Location"]
    reader = login_as(people["amina"])
    shown = reader.get(page).get_data(as_text=True)
    assert "Guide de sécurité numérique" in shown
    assert "<strong>localisation</strong>" in shown and "<h2>Avant une manifestation</h2>" in shown
    assert "Collectif Nissa" in shown
    assert "Qzx" not in shown  # the authors: she may not see identifying data
    assert "/edit" not in shown and "/review" not in shown  # a member neither edits nor reviews
    listing = reader.get("/knowledge/").get_data(as_text=True)
    assert "Guide de sécurité numérique" in listing
    assert 'href="/knowledge/tags/s%C3%A9curit%C3%A9%20num%C3%A9rique"' in listing
    tagged = reader.get("/knowledge/tags/securite numerique").get_data(as_text=True)
    assert "Guide de sécurité numérique" in tagged


def test_filters_narrow_the_list(app, people, login_as, make_resource):
    with app.test_request_context():
        make_resource(people["salma"])
        make_resource(people["salma"], kind="report", language="ar", title="تقرير سنوي",
                      tags="تقارير", audience="public")
    reader = login_as(people["amina"])
    for query, shown, hidden in (("kind=report", "تقرير سنوي", "Guide de"),
                                 ("language=fr", "Guide de", "تقرير سنوي"),
                                 ("audience=public", "تقرير سنوي", "Guide de"),
                                 ("tag=téléphones", "Guide de", "تقرير سنوي"),
                                 ("kind=nonsense", "Guide de", "Nothing here yet")):
        page = reader.get(f"/knowledge/?{query}").get_data(as_text=True)
        assert shown in page and hidden not in page, query


def test_search_from_the_library(app, people, login_as, make_resource):
    with app.test_request_context():
        make_resource(people["salma"])
    reader = login_as(people["amina"])
    page = reader.submit("/knowledge/", {"q": "manifestations"}).get_data(as_text=True)
    assert "Guide de sécurité numérique" in page and "<mark>" in page
    assert "Guide de sécurité numérique" not in reader.submit(
        "/knowledge/", {"q": "manifestations", "language": "ar"}).get_data(as_text=True)
    # Words in the address are ignored: the library is listed, not searched.
    assert "<mark>" not in reader.get("/knowledge/?q=manifestations").get_data(as_text=True)
    assert reader.post("/knowledge/", data={"q": "manifestations"}).status_code == 400


def test_testimonies_are_for_those_who_may_read_them(app, people, login_as, make_resource):
    with app.test_request_context():
        testimony = make_resource(people["salma"], kind="testimony")
        uuid = testimony.uuid
    member = login_as(people["amina"])
    assert "Sfax" not in member.get("/knowledge/").get_data(as_text=True)
    assert member.get(f"/knowledge/r/{uuid}").status_code == 404
    assert member.get("/knowledge/?kind=testimony").status_code == 200
    found = member.submit("/knowledge/", {"q": "Sfax"}).get_data(as_text=True)
    assert "Ce que" not in found and "0 found" in found
    assert member.get("/knowledge/new?type=testimony").status_code == 403
    writer = login_as(people["salma"])
    page = writer.get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    assert "Rim Qzxtlili" in page  # as written, to a documenter on an unlocked node
    assert "/consent" in page


def test_translations_are_side_by_side(app, people, login_as, make_resource):
    with app.test_request_context():
        french = make_resource(people["salma"])
        make_resource(people["salma"], language="ar", title="دليل الأمان الرقمي",
                      body="## قبل المظاهرة", translation_of=french.uuid)
        uuid = french.uuid
    page = login_as(people["amina"]).get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    assert 'class="side-by-side with-translations"' in page
    assert '<article class="resource" lang="ar" dir="rtl">' in page
    assert "<h3>قبل المظاهرة</h3>" in page and "Avant une manifestation" in page


def test_the_editor_previews_without_saving(app, people, login_as):
    writer = login_as(people["salma"])
    answer = writer.submit("/knowledge/new", {**_form(resource_data()), "preview": "1"})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Preview: not saved yet." in page and "<strong>localisation</strong>" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Resource)) == 0


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "This field is required"),
    ({"language": "de"}, "Not a valid choice"),
    ({"translation_of": "itself"}, "translation of itself"),
])
def test_bad_input_on_the_editor_says_why_and_saves_nothing(app, people, login_as,
                                                            make_resource, changes, message):
    with app.test_request_context():
        guide = make_resource(people["salma"])
        uuid, version = guide.uuid, guide.version
    if changes.get("translation_of") == "itself":
        changes = {"translation_of": uuid}
    writer = login_as(people["salma"])
    answer = writer.submit(f"/knowledge/r/{uuid}/edit", _form(resource_data(**changes)))
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Resource.version)) == version
        assert db.session.scalar(select(func.count()).select_from(Entry)) == 1


def test_a_disguised_file_on_the_editor_saves_nothing(app, people, login_as):
    writer = login_as(people["salma"])
    fields = {**_form(resource_data()),
              "file": (io.BytesIO(b"<html><script>alert(1)</script>"), "guide.pdf",
                       "application/pdf")}
    answer = writer.submit("/knowledge/new", fields, content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "not accepted, whatever its name says" in answer.get_data(as_text=True)
    with app.app_context():
        for model in (Resource, Entry, KnowledgeFile):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_a_file_is_served_as_a_download(app, people, login_as, make_resource):
    with app.test_request_context():
        guide = make_resource(people["salma"])
        uuid = guide.uuid
    writer = login_as(people["salma"])
    name = "rapport\u202efdp.exe"  # a bidirectional override: reads as "rapportexe.pdf"
    answer = writer.submit(f"/knowledge/r/{uuid}/files",
                           {"file": (io.BytesIO(PDF), name, "text/html")},
                           page=f"/knowledge/r/{uuid}", content_type="multipart/form-data")
    assert answer.status_code == 303
    page = login_as(people["amina"]).get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    link = re.search(r'href="(/knowledge/r/[^"]+/files/[^"]+)"', page).group(1)
    download = login_as(people["amina"]).get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == \
        "attachment; filename*=UTF-8''rapportfdp.exe.pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "\u202e" not in page


def test_an_image_may_be_shown_in_the_text(app, people, login_as, make_resource):
    from .conftest import upload
    with app.test_request_context():
        guide = make_resource(people["salma"], file=upload(PNG, "carte.png", "image/png"))
        file_uuid = db.session.scalar(select(KnowledgeFile.uuid))
        uuid = guide.uuid
    src = f"/knowledge/r/{uuid}/files/{file_uuid}"
    writer = login_as(people["salma"])
    writer.submit(f"/knowledge/r/{uuid}/edit", _form(resource_data(body=f"![la carte]({src})")))
    page = writer.get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    assert f'<img src="{src}" alt="la carte">' in page


def test_the_editor_opens_with_what_was_written(app, people, login_as, make_resource):
    with app.test_request_context():
        uuid = make_resource(people["salma"]).uuid
    page = login_as(people["salma"]).get(f"/knowledge/r/{uuid}/edit").get_data(as_text=True)
    assert 'value="2026-03-08"' in page and "Salma Qzxhaddad" in page
    assert 'value="sécurité numérique, téléphones"' in page


def test_an_earlier_version_can_be_read(app, people, login_as, make_resource):
    with app.test_request_context():
        uuid = make_resource(people["salma"]).uuid
    writer = login_as(people["salma"])
    writer.submit(f"/knowledge/r/{uuid}/edit", _form(resource_data(title="Deuxième édition")))
    page = writer.get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    assert "Deuxième édition" in page and f"/knowledge/r/{uuid}/versions/1" in page
    earlier = login_as(people["amina"]).get(f"/knowledge/r/{uuid}/versions/1")
    assert "Guide de sécurité numérique" in earlier.get_data(as_text=True)
    assert login_as(people["amina"]).get(f"/knowledge/r/{uuid}/versions/2").status_code == 404
    assert login_as(people["amina"]).get(
        f"/knowledge/r/{uuid}/versions/99999999999").status_code == 404


def test_the_home_page_shows_what_is_new_in_the_coalition(app, people, login_as,
                                                         make_resource):
    with app.test_request_context():
        make_resource(people["salma"], title="Pour la coalition")
        make_resource(people["salma"], title="Pour ce nœud seulement", audience="node")
    home = login_as(people["amina"]).get("/").get_data(as_text=True)
    assert "New in the coalition" in home
    assert "Pour la coalition" in home and "Pour ce nœud seulement" not in home


@pytest.mark.parametrize("name", sorted(XSS))
def test_hostile_markdown_reaches_the_page_inert(app, people, login_as, make_resource, name):
    with app.test_request_context():
        uuid = make_resource(people["salma"], body=XSS[name],
                             title='<img src=x onerror=alert(9)>',
                             tags='<script>alert(10)</script>').uuid
    page = login_as(people["amina"]).get(f"/knowledge/r/{uuid}").get_data(as_text=True)
    main = page.split('<main id="main">', 1)[1]
    assert "<script" not in main and "<svg" not in main
    assert not re.search(r"<[^>]+\son\w+\s*=", main), "an event handler attribute"
    assert "javascript:" not in main.lower().replace("(javascript:alert", "")
    assert "data:text/html" not in main.replace("(data:text/html", "")
    assert "tracker.example" not in main.replace("(https://tracker.example", "") or \
        '<img alt="pixel">' in main


def test_the_librarys_count_is_capped_as_a_searchs(app, people, login_as, make_resource,
                                                    monkeypatch):
    from plugins.knowledge import search

    with app.test_request_context():
        for n in range(3):
            make_resource(people["salma"], title=f"Guide {n}")
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    page = login_as(people["amina"]).get("/knowledge/").get_data(as_text=True)
    assert "More than 2 found." in page and "Guide 0" in page
    monkeypatch.setattr(search, "COUNT_CAP", 1000)
    assert "3 found." in login_as(people["amina"]).get("/knowledge/").get_data(as_text=True)
