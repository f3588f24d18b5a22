"""Malformed ids and page numbers, on every route that takes one: a 404 or a 400, never a 500.

Every part of every route's path, and every query parameter a page reads (found by watching
which names it asks for, so a new one joins by itself), gets values a careless parser trips
on: out of range for the database's integers (2^63, 2^64), negative, non-numeric, digits of
other scripts (Arabic-Indic ٣, superscripts), NUL bytes, whitespace, ``../``, very long.
As an administrator (who may open every page) and as a member, on SQLite and PostgreSQL.

A page whose first step is ``require_permission``'s check refuses a member who lacks the
permission before it reads anything she sent; what runs before that check (routing, the checks
before every request) is the same for every role, so the administrator's requests cover it:
the named values go to such a page as the administrator only, and the member's left-out
requests are each shown refused (a value the page takes, answered 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict

from core.access import checked_first
from core.extensions import db
from core.models import User
from core.permissions import ADMIN, MEMBER
from core.testing import TEST_PASSPHRASE, all_databases, signed_in_client
from tests.core.every_route import OPEN, World, build_world

BIG = 2**63
MALFORMED = [
    "0", "-1", "+1", "1.5", "0x10", "1_000",
    str(2**31), str(BIG - 1), str(BIG), str(2**64), str(-BIG - 1), "9" * 40,
    "\u0663", "\uff11\uff12", "\u00b2", "1\x00", "\x00", " 1", "", "../", "%00", "x" * 5000,
]
# Hypothesis adds its own: numbers of any size, digit strings of any script, any text.
GENERATED = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=30),
    st.text(min_size=0, max_size=80),
)
ROLES = (ADMIN, MEMBER)


@dataclass(frozen=True)
class Target:
    """One place a malformed value goes: a part of a route's path, or a parameter of its
    query (GET) or form (POST)."""

    endpoint: str
    method: str
    rule: str
    argument: str
    place: str  # "path", "query" or "form"

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint} {self.place}:{self.argument}"


class Node:
    """The node under test, a signed-in client per role, and the requests sent to it."""

    def __init__(self, world: World):
        self.world, self.app = world, world.app
        self.people = {role: world.users[role] for role in ROLES}
        self.clients = {role: signed_in_client(self.app, uid) for role, uid in self.people.items()}
        self.tokens = {role: c.csrf_token("/account/") for role, c in self.clients.items()}
        self.targets = sorted(set(self._path_targets() + self._parameter_targets()), key=str)

    def send(self, target: Target, role: str, value: str) -> int:
        rule = self._rule(target.endpoint, target.rule)
        values = {name: str(self.world.value(name, rule.endpoint, OPEN)) for name in rule.arguments}
        if target.place == "path":
            values[target.argument] = value
        path = _path(rule.rule, values)
        client = self.clients[role]
        if target.method == "GET":
            query = {target.argument: value} if target.place == "query" else None
            response = client.get(path, query_string=query)
        else:
            data = {"csrf_token": self.tokens[role]}
            if target.place == "form":
                data[target.argument] = value
            response = client.post(path, data=data)
        status = response.status_code
        response.get_data()  # read to the end, as a browser does (exports stream)
        response.close()
        _unlock(self.app)  # in case a page locked the node
        return status

    def roles_reaching(self, target: Target) -> tuple[str, ...]:
        """The roles whose requests for ``target`` get past the page's permission check."""
        permission = checked_first(self.app.view_functions[target.endpoint])
        return tuple(role for role in ROLES if permission is None or self.can(role, permission))

    def well_formed(self, target: Target) -> str:
        """A value the page takes: the world's own for a part of the path, 1 otherwise."""
        if target.place != "path":
            return "1"
        return str(self.world.value(target.argument, target.endpoint, OPEN))

    def can(self, role: str, permission: str) -> bool:
        with self.app.app_context():
            return db.session.get(User, self.people[role]).can(permission)

    def still_signed_in(self) -> dict[str, int]:
        """Each role's answer on her own settings page: 200 while her session lasts."""
        return {role: c.get("/account/").status_code for role, c in self.clients.items()}

    def _rule(self, endpoint: str, text: str):
        return next(r for r in self.app.url_map.iter_rules(endpoint) if r.rule == text)

    def _path_targets(self) -> list[Target]:
        return [Target(rule.endpoint, method, rule.rule, argument, "path")
                for rule in self.app.url_map.iter_rules()
                for method in sorted(rule.methods & {"GET", "POST"})
                for argument in sorted(rule.arguments)]

    def _parameter_targets(self) -> list[Target]:
        """The parameters every page reads by name, links to, or carries in a hidden field:
        found by opening each page as an administrator (and the pages its links with a query
        lead to, three links deep), not from a list kept by hand."""
        asked = watch_parameters(self.app)
        found: set[Target] = set()
        adapter = self.app.url_map.bind("localhost")
        pages = [_path(rule.rule, {name: str(self.world.value(name, rule.endpoint, OPEN))
                                   for name in rule.arguments})
                 for rule in self.app.url_map.iter_rules()
                 if "GET" in rule.methods and not rule.endpoint.endswith("static")]
        followed: set[str] = set()
        for _depth in range(3):
            onward = []
            for url in pages:
                asked.clear()
                page = self.clients[ADMIN].get(url)
                endpoint, rule = self._match(adapter, "GET", url.split("?")[0])
                found |= {Target(endpoint, "GET", rule, name, "query") for name in asked}
                for method, path, query, name in parameters_on(page.get_data(as_text=True),
                                                               url):
                    found |= self._target(adapter, method, path, name)
                    if method == "GET" and query and path + query not in followed:
                        followed.add(path + query)
                        onward.append(f"{path}?{query}")
                page.close()
            pages = onward
        found |= self._posted_too(found)
        return [t for t in found if t.argument and not t.argument.endswith("csrf_token")
                and not _later_entry(t.argument)]

    def _posted_too(self, found: set[Target]) -> set[Target]:
        """A page asked for by GET or by POST (a list searched with posted words) reads the
        same parameters from its form as from its query."""
        return {Target(t.endpoint, "POST", t.rule, t.argument, "form") for t in found
                if t.place == "query" and "POST" in self._rule(t.endpoint, t.rule).methods}

    def _match(self, adapter, method: str, path: str) -> tuple[str | None, str | None]:
        from werkzeug.exceptions import HTTPException

        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            return None, None  # another site, or a page this node does not serve
        return rule.endpoint, rule.rule

    def _target(self, adapter, method: str, path: str, name: str) -> set[Target]:
        endpoint, rule = self._match(adapter, method, path)
        if endpoint is None:
            return set()
        return {Target(endpoint, method, rule, name, "query" if method == "GET" else "form")}


def parameters_on(html: str, here: str) -> list[tuple[str, str, str, str]]:
    """(method, path, query, parameter name) of every link's query, every field of a GET
    form and every hidden field and list of a POST form on a page, read with the standard
    library's HTML parser."""
    from html.parser import HTMLParser
    from urllib.parse import parse_qsl, urljoin, urlsplit

    found: list[tuple[str, str, str, str]] = []

    class Reader(HTMLParser):
        form: tuple[str, str] | None = None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "a" and attrs.get("href"):
                url = urlsplit(urljoin(here, attrs["href"]))
                found.extend(("GET", url.path, url.query, name) for name, _ in
                             parse_qsl(url.query, keep_blank_values=True))
            elif tag == "form":
                action = urlsplit(urljoin(here, attrs.get("action") or here)).path
                self.form = ((attrs.get("method") or "GET").upper(), action)
            elif self.form and tag in ("input", "select", "textarea") and (
                    attrs.get("type") == "hidden" or tag == "select" or self.form[0] == "GET"):
                # a GET form's every field is a query parameter; ids and codes travel in a
                # POST form's hidden fields and lists
                found.append((*self.form, "", attrs.get("name") or ""))

        def handle_endtag(self, tag):
            if tag == "form":
                self.form = None

    Reader().feed(html)
    return found


def _later_entry(name: str) -> bool:
    """A list's second entry onwards (``incidents-1-place``): the same field as its first."""
    import re

    return re.search(r"-[1-9][0-9]*-", name) is not None


def watch_parameters(app: Flask) -> set[str]:
    """From now on, note the name of every query or form parameter a page asks for."""
    asked: set[str] = set()

    class Watched(ImmutableMultiDict):
        def get(self, key, default=None, type=None):
            asked.add(key)
            return super().get(key, default, type)

        def getlist(self, key, type=None):
            asked.add(key)
            return super().getlist(key, type)

        def __getitem__(self, key):
            asked.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            asked.add(key)
            return super().__contains__(key)

    class WatchedRequest(app.request_class):
        parameter_storage_class = Watched

    app.request_class = WatchedRequest
    return asked


def _path(rule: str, values: dict[str, str]) -> str:
    """The rule's path with each part's value %-encoded as a browser would send it."""
    import re

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: quote(values[m.group(1)], safe=""), rule)


def _unlock(app: Flask) -> None:
    from core import keystore

    with app.app_context():
        if not keystore.keystore(app).unlocked:
            keystore.keystore(app).unlock(TEST_PASSPHRASE)


@pytest.fixture
def node(make_app) -> Node:
    """The node with three pages of cases, so the list links onwards and back (the second
    page's way back is the list's start, with no ``before``: only the third page's has one)."""
    from plugins.cases import sample
    from plugins.cases.store import PAGE_SIZE

    world = build_world(make_app)
    with world.app.test_request_context():
        sample.create(2 * PAGE_SIZE + 5, seed=5)
    return Node(world)


@pytest.mark.slow
@all_databases
def test_the_named_malformed_values_never_give_a_500(node, capsys):
    failures, sent, left_out = [], 0, []
    for target in node.targets:
        reaching = node.roles_reaching(target)
        left_out += [(target, role) for role in ROLES if role not in reaching]
        for value in MALFORMED:
            for role in reaching:
                sent += 1
                status = node.send(target, role, value)
                if status >= 500:
                    failures.append(f"{role:6} {target} = {value[:40]!r}: {status}")
    with capsys.disabled():
        print(f"\nMalformed ids: {len(node.targets)} places × {len(MALFORMED)} values × the "
              f"roles that pass each page's permission check = {sent} requests "
              f"({len(left_out)} places refused to a role first), {len(failures)} answered 5xx")
    assert node.targets and not failures, "\n".join(failures)
    refused = {(str(target), role): node.send(target, role, node.well_formed(target))
               for target, role in left_out}
    assert left_out and set(refused.values()) == {403}, refused
    assert all(ADMIN in node.roles_reaching(target) for target in node.targets)
    assert node.still_signed_in() == {ADMIN: 200, MEMBER: 200}  # answers came from the pages


@pytest.mark.slow
@all_databases
def test_generated_values_never_give_a_500(node):
    @settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(target=st.sampled_from(node.targets), role=st.sampled_from(ROLES), value=GENERATED)
    def never_a_500(target, role, value):
        assert node.send(target, role, value) < 500, f"{role} {target} = {value!r}"

    never_a_500()
    assert node.still_signed_in() == {ADMIN: 200, MEMBER: 200}


@pytest.mark.slow
def test_the_places_include_every_id_and_page_the_pages_read(node):
    """The walk finds what it must: path ids of each kind, and the list's paging parameters."""
    places = {(t.endpoint, t.argument) for t in node.targets}
    assert {("admin.user_action", "user_id"), ("records.withdraw", "consent_id"),
            ("cases.detail", "uuid"), ("federation.approve_peer", "peer_id")} <= places
    assert {("cases.index", "page"), ("cases.index", "after"), ("cases.index", "before"),
            ("admin.audit_log", "before"), ("keys.ledger_page", "before"),
            ("federation.shared_page", "after")} <= places
