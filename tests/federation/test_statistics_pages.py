"""A hub's statistics pages: the chosen table with its SVG chart, the trend, exports and the
brief show only suppressed figures; bad input is a clear 400 and writes nothing."""

import random
import re
import uuid

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditEntry
from core.testing import add_person, all_databases, signed_in_client
from federation import charts, inbox, statistics
from tests.federation.conftest import Origin, as_item

K = 5  # the default, smallest k
VIOLATIONS = ["arbitrary-detention", "smear-campaign", "threats"]


@pytest.fixture
def hub(federation_app):
    return federation_app(FEDERATION_ROLE="hub")


def case(rng, violation=None, month=None, place="EG-C"):
    return {"status": "open", "defender": {"age": "18-29", "activism": ["labour"]},
            "incidents": [{"occurred_on": month or f"2025-{rng.randint(1, 6):02d}",
                           "place": place, "violation": violation or rng.choice(VIOLATIONS),
                           "perpetrator_type": "police"}]}


def fill(app, member, cases, audiences=("hub",)):
    """Store ``cases`` as shared records consented to statistics."""
    consent = {"audiences": sorted(audiences), "purposes": ["statistics"], "expires": None}
    items = [as_item(member.record("hub", str(uuid.uuid4()), payload=payload,
                                   consent=consent)) for payload in cases]
    with app.app_context():
        inbox.apply(items, received_from=member.node_id, relay=True)
        db.session.commit()


def reader(app, role="member"):
    with app.app_context():
        person = add_person(f"reader-{role}", role)
    return signed_in_client(app, person.id)


def filled(hub):
    """40 detentions (8 a month, Jan–May), 12 threats (6 in Jan and Feb), 2 smear campaigns
    (below k) and 5 travel bans in Egypt in June 2025: June's table hides the smear campaigns
    and the travel bans (suppression is decided month by month)."""
    member, rng = Origin(seed=5), random.Random(5)
    member.pin(hub)  # a member the hub paired with: the member filter names it
    fill(hub, member, [case(rng, "arbitrary-detention", f"2025-0{m}")
                       for m in range(1, 6) for _ in range(8)] +
         [case(rng, "threats", f"2025-0{m}") for m in (1, 2) for _ in range(6)] +
         [case(rng, "smear-campaign", "2025-06") for _ in range(2)] +
         [case(rng, "travel-ban", "2025-06") for _ in range(5)])
    return member


def figures(html: str) -> list[int]:
    """Every number shown in the statistics tables' cells."""
    return [int(n) for n in re.findall(r"<td>(\d+)</td>", html)]


@all_databases
def test_the_page_shows_a_table_and_svg_charts_with_small_cells_hidden(hub):
    filled(hub)
    client = reader(hub)
    page = client.get("/federation/statistics?rows=violation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count("<svg") == 2 and "<script" not in html
    assert 'role="img"' in html and "<title" in html
    assert "<td>40</td>" in html
    # 2 smear campaigns: hidden, and so is a figure that would give them away
    assert "<td>2</td>" not in html
    assert "<td>12</td>" in html and "<td>59</td>" in html and "<td>5</td>" not in html
    assert all(n >= K or n == 0 for n in figures(html))
    assert "fewer than 5" in html


@all_databases
def test_two_dimensions_and_filters(hub):
    member = filled(hub)
    client = reader(hub)
    html = client.get(f"/federation/statistics?rows=violation&columns=month&since=2025-01"
                      f"&until=2025-06&country=EG&origin={member.node_id}").get_data(True)
    assert "<table" in html and "2025-03" in html
    assert all(n >= K or n == 0 for n in figures(html))


@pytest.mark.parametrize("query, said", [
    ("rows=password", "not one the hub counts"),
    ("rows=violation&columns=violation", "two different dimensions"),
    ("measure=cases&rows=violation", "Cases are counted by"),
    ("measure=victims", "incidents or cases"),
    ("since=2025-06&until=2025-01", "ends before it starts"),
    ("since=June", "A filter is not valid"),
    ("origin=" + "a" * 26, "not one this hub knows"),
    ("country=EG%00", "A filter is not valid"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(hub, query, said):
    filled(hub)
    client = reader(hub)
    with hub.app_context():
        before = (db.session.scalar(select(func.count()).select_from(statistics.Fact)),
                  db.session.scalar(select(func.count()).select_from(AuditEntry)))
    for path in ("/federation/statistics", "/federation/statistics/brief",
                 "/federation/statistics/export.csv"):
        answer = client.get(f"{path}?{query}")
        assert answer.status_code == 400, path
        assert said in answer.get_data(as_text=True), path
        assert "<svg" not in answer.get_data(as_text=True)
    with hub.app_context():
        assert (db.session.scalar(select(func.count()).select_from(statistics.Fact)),
                db.session.scalar(select(func.count()).select_from(AuditEntry))) == before


def test_exports_are_suppressed_like_the_page(hub):
    filled(hub)
    client = reader(hub)
    csv_text = client.get("/federation/statistics/export.csv?rows=violation").get_data(True)
    assert csv_text.startswith("# measure: incidents") and "# k: 5" in csv_text
    assert "arbitrary-detention,40" in csv_text and "smear-campaign,\n" in csv_text
    hxl = client.get("/federation/statistics/export.hxl?rows=violation").get_data(True)
    assert "#event+type" in hxl
    answer = client.get("/federation/statistics/export.json?rows=violation&of=trend")
    assert answer.json["dimensions"] == ["month"] and answer.json["k"] == 5
    assert "attachment" in answer.headers["Content-Disposition"]
    assert client.get("/federation/statistics/export.xls").status_code == 400


def test_the_brief_is_print_ready_in_the_language_asked(hub):
    filled(hub)
    client = reader(hub)
    for lang, direction in (("ar", "rtl"), ("fr", "ltr"), ("en", "ltr")):
        html = client.get(f"/federation/statistics/brief?rows=violation&since=2025-01"
                          f"&until=2025-06&lang={lang}").get_data(True)
        assert f'<html lang="{lang}" dir="{direction}">' in html
        assert html.count("<svg") == 2 and "hub.css" in html and "<form" not in html
        assert "2025-01" in html and "<td>40</td>" in html and "<td>2</td>" not in html
    with client.get("/federation/static/hub.css") as answer:
        css = answer.get_data(as_text=True)
    assert "size: A4" in css and "@media print" in css


def test_a_reader_without_the_permission_is_refused(hub):
    with hub.app_context():
        person = add_person("visitor", "member")
    # every role reads shared records today; an anonymous visitor is sent to sign in
    assert hub.test_client().get("/federation/statistics").status_code == 302
    assert signed_in_client(hub, person.id).get("/federation/statistics").status_code == 200


class _Table:
    """A suppressed table as federation.statistics gives it (rows, cells, None = hidden)."""

    def __init__(self, cells, dimensions=("violation",)):
        self.dimensions, self.cells = dimensions, cells
        self.rows, self.columns = list(cells), [None]

    def cell(self, row, column=None):
        return self.cells[row]

    def row_total(self, row):
        return self.cells[row]


def test_charts_mirror_right_to_left_and_never_draw_a_hidden_figure():
    table = _Table({"a": 40, "b": None, "c": 20})
    left = charts.bars(table, "t", lambda d, k: k, rtl=False, hidden="fewer than 5")
    right = charts.bars(table, "t", lambda d, k: k, rtl=True, hidden="fewer than 5")
    assert [b.width for b in left.bars] == [b.width for b in right.bars]
    assert left.bars[1].width == 0 and left.bars[1].value is None
    for l_bar, r_bar in zip(left.bars, right.bars, strict=True):  # one is the other's mirror
        assert l_bar.x == pytest.approx(charts.WIDTH - r_bar.x - r_bar.width)
    assert (left.label_anchor, right.label_anchor) == ("end", "start")
    months = _Table({"2025-01": 9, "2025-02": None, "2025-03": 12}, ("month",))
    line = charts.line(months, "t", rtl=True, hidden="fewer than 5")
    assert len(line.segments) == 2 and [m for _x, m in line.gaps] == ["2025-02"]
    assert line.points[0][0] > line.points[-1][0]  # time runs leftwards


def test_the_brief_carries_several_tables_each_with_its_own_choice(hub):
    filled(hub)
    client = reader(hub)
    asked = ("1-rows=violation&1-since=2025-01&1-until=2025-03"
             "&2-of=trend&2-since=2025-01&2-until=2025-06"
             "&3-rows=country&3-columns=violation&3-violation=threats&3-measure=incidents")
    for lang, direction in (("ar", "rtl"), ("fr", "ltr"), ("en", "ltr")):
        html = client.get(f"/federation/statistics/brief?{asked}&lang={lang}").get_data(True)
        assert f'<html lang="{lang}" dir="{direction}">' in html
        assert html.count("<svg") == 3 and html.count('class="brief-part"') == 3
        assert html.count("<polyline") >= 1  # the trend is a line
        assert "2025-01 – 2025-03" in html and "2025-01 – 2025-06" in html
        assert "<td>24</td>" in html  # detentions Jan–Mar
        assert "<td>12</td>" in html  # threats, the third table's filter
        assert all(n >= K or n == 0 for n in figures(html)) and "<form" not in html
    # too many parts, or a bad one, is a clear 400
    too_many = "&".join(f"{n}-rows=violation" for n in range(1, 8))
    assert client.get(f"/federation/statistics/brief?{too_many}").status_code == 400
    answer = client.get("/federation/statistics/brief?1-rows=violation&2-rows=password")
    assert answer.status_code == 400 and "not one the hub counts" in answer.get_data(True)
    assert client.get("/federation/statistics/brief?1-of=chart").status_code == 400


def test_the_statistics_page_puts_a_brief_together_without_javascript(hub):
    filled(hub)
    client = reader(hub)
    html = client.get("/federation/statistics?rows=violation&since=2025-01").get_data(True)
    add = re.search(r'<a href="([^"]+)">Add this table to the brief', html).group(1)
    html = client.get(add.replace("&amp;", "&")).get_data(True)
    chosen = html.split('id="brief-builder-title"')[1]
    assert "<li>Incidents by violation (2025-01 – …)</li>" in chosen
    add = re.search(r'<a href="([^"]+)">Add its trend by month', html).group(1)
    assert "1-rows=violation" in add and "2-of=trend" in add
    html = client.get(add.replace("&amp;", "&")).get_data(True)
    assert 'type="hidden" name="1-rows" value="violation"' in html  # kept by the form
    brief = re.search(r'<a href="([^"]+)">Open the brief', html).group(1)
    html = client.get(brief.replace("&amp;", "&")).get_data(True)
    assert html.count('class="brief-part"') == 2 and html.count("<svg") == 2
