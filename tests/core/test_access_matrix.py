"""Who may reach what, shown cell by cell: every route of the URL map (every built-in plugin
loaded) × every role × a restricted, an open and a missing record, by GET and by POST; and
a page of the open record asked for a part (consent, task, file) of the restricted one.

The expected answer of each cell comes from the policy declared below (which permission an
endpoint needs; the roles holding it come from the permission registry) and from the
need-to-know rule: a restricted record is for administrators, reviewers and the documenter
it is assigned to; everyone else gets the answer a missing record gets (404, or the refusal
the page gives before it looks the record up). A new route joins the matrix by itself; it
fails until its policy is declared here, like the frozen list of public endpoints.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from flask import Flask

from core import access
from core.permissions import (
    ADMIN,
    MANAGE_CONSENT,
    MANAGE_KEYS,
    MANAGE_USERS,
    READ_AUDIT,
    READ_LEDGER,
    REVIEW_RECORDS,
    REVIEWER,
    VIEW_IDENTIFYING,
    registry,
)
from core.testing import TEST_PASSPHRASE, all_databases, signed_in_client
from tests.core.every_route import (
    ANONYMOUS,
    ASSIGNED,
    CROSSED,
    MISSING,
    OPEN,
    OTHER_DOCUMENTER,
    PART_ARGUMENTS,
    REAL_NAMES,
    RECORD_ARGUMENTS,
    RESTRICTED,
    RESTRICTED_PSEUDONYM,
    RESTRICTED_TITLE,
    ROLE_OF,
    ROLES,
    SEES_RESTRICTED,
    World,
    build_world,
)

SIGNED_IN = "any signed-in user"
OWN_SIGN_IN = "the steps of one's own sign-in"
ANYONE = "anyone"
NODES_ONLY = "other nodes, by signature"

# Who may reach each endpoint: a permission name (its roles come from the registry) or one of
# the four words above. Declaring an endpoint here is reviewing who may open it.
POLICY = {
    "static": ANYONE,
    "auth.login": ANYONE,
    "auth.accept_invite": ANYONE,
    "home.set_language": ANYONE,
    "federation.static": ANYONE,
    "federation.node_document": ANYONE,
    "auth.code": OWN_SIGN_IN,
    "auth.enrol_second_factor": OWN_SIGN_IN,
    "auth.logout": OWN_SIGN_IN,
    "federation.outbox_page": NODES_ONLY,
    "federation.inbox_hint": NODES_ONLY,
    "federation.push_in": NODES_ONLY,
    "federation.receipts_in": NODES_ONLY,
    "federation.pair_request": NODES_ONLY,
    "federation.vouched_keys": NODES_ONLY,
    "federation.takedowns": NODES_ONLY,
    "federation.held_entries": NODES_ONLY,
    "home.index": SIGNED_IN,
    "home.search": SIGNED_IN,
    "home.glossary": SIGNED_IN,
    "account.settings": SIGNED_IN,
    "admin.users_page": MANAGE_USERS,
    "admin.user_action": MANAGE_USERS,
    "admin.confirm_reset": MANAGE_USERS,
    "admin.revoke_invite": MANAGE_USERS,
    "admin.audit_log": READ_AUDIT,
    "keys.keys_page": MANAGE_KEYS,
    "keys.lock": MANAGE_KEYS,
    "keys.ledger_page": READ_LEDGER,
    "records.consent_page": MANAGE_CONSENT,
    "records.withdraw": MANAGE_CONSENT,
    "records.add_evidence": MANAGE_CONSENT,
    "records.evidence_file": MANAGE_CONSENT,
    "records.review_page": REVIEW_RECORDS,
    "records.approve": REVIEW_RECORDS,
    "cases.index": "cases.view",
    "cases.detail": "cases.view",
    "cases.new": "cases.edit",
    "cases.edit": "cases.edit",
    "cases.add_task": "cases.edit",
    "cases.finish_task": "cases.edit",
    "cases.upload": "cases.edit",
    "cases.download": VIEW_IDENTIFYING,
    "cases.export": "cases.export",
    "cases.find": VIEW_IDENTIFYING,
    "cases.autosave": "cases.edit",
    "cases.undo_task": "cases.edit",
    "cases.outgoing": "cases.view",
    "cases.review_queue": REVIEW_RECORDS,
    "cases.send_back": REVIEW_RECORDS,
    "cases.delete": "cases.edit",
    "federation.peers_page": "federation.manage",
    "federation.add_peer": "federation.manage",
    "federation.approve_peer": "federation.manage",
    "federation.remove_peer": "federation.manage",
    "federation.set_direction": "federation.manage",
    "federation.release": "federation.manage",
    "federation.refuse_all_requests": "federation.manage",
    "federation.sync_now": "federation.manage",
    "federation.sync_state": "federation.manage",
    "federation.shared_page": "federation.read_shared",
    "federation.shared_record": "federation.read_shared",
    "federation.statistics_page": "federation.read_shared",
    "federation.statistics_export": "federation.read_shared",
    "federation.statistics_brief": "federation.read_shared",
    "federation.public_statistics": ANYONE,
    "federation.operations_page": "federation.manage",
    "federation.withhold_feed": "federation.manage",
    "federation.lift_hold": "federation.manage",
    "events.static": ANYONE,
    "events.public_feed": ANYONE,
    "events.member_feed": ANYONE,
    "events.index": "events.view",
    "events.detail": "events.view",
    "events.download": "events.view",
    "events.register": "events.view",
    "events.cancel": "events.view",
    "events.feed": "events.view",
    "events.shared_calendar": "events.view",
    "events.new": "events.organise",
    "events.edit": "events.organise",
    "events.organise": "events.organise",
    "events.add_attendee": "events.organise",
    "events.check_in": "events.organise",
    "events.remove_attendee": "events.organise",
    "events.report": "events.organise",
    "events.export": "events.organise",
    "knowledge.static": ANYONE,
    "knowledge.public_library": ANYONE,
    "knowledge.public_resource": ANYONE,
    "knowledge.index": "knowledge.view",
    "knowledge.tag": "knowledge.view",
    "knowledge.detail": "knowledge.view",
    "knowledge.download": "knowledge.view",
    "knowledge.version": "knowledge.view",
    "knowledge.new": "knowledge.write",
    "knowledge.edit": "knowledge.write",
    "knowledge.add_file": "knowledge.write",
}
# Pages that manage one event: only its organisers and the node's administrators, whatever
# else holds the permission (the others get the 404 a missing event gets). The matrix's
# event is the administrator's: she alone organises it.
EVENT_MANAGEMENT = {"events.edit", "events.organise", "events.add_attendee",
                    "events.check_in", "events.report", "events.remove_attendee"}
# Deleting or merging a case: its author, its assigned documenter, reviewers, administrators.
CASE_OWNERS_ONLY = {"cases.delete"}

@dataclass(frozen=True)
class Cell:
    endpoint: str
    method: str
    record: str | None
    role: str
    url: str


@dataclass
class Answer:
    status: int
    location: str
    body: str

    @property
    def refused(self) -> bool:
        return self.status in (401, 403, 404) or self.to_login

    @property
    def to_login(self) -> bool:
        return self.status in (301, 302, 303) and self.location.split("?")[0].endswith("/login")


@pytest.fixture
def world(make_app) -> World:
    return build_world(make_app)


# -- the cells -----------------------------------------------------------------------------


def cells(world: World) -> list[Cell]:
    found = []
    for rule in sorted(world.app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        records_named = [RESTRICTED, OPEN, MISSING] if rule.arguments & RECORD_ARGUMENTS \
            else [None]
        if rule.arguments & PART_ARGUMENTS:
            records_named.append(CROSSED)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for record in records_named:
                values = {name: world.value(name, rule.endpoint, record)
                          for name in rule.arguments}
                url = rule.build(values, append_unknown=False)[1]
                found += [Cell(rule.endpoint, method, record, role, url) for role in ROLES]
    return found


def allowed(world: World, cell: Cell) -> bool:
    """What the declared policy says this cell must answer: open, or refused."""
    policy = POLICY[cell.endpoint]
    if policy == ANYONE:
        return True
    if policy == NODES_ONLY or cell.role == ANONYMOUS:
        return False
    if policy not in (SIGNED_IN, OWN_SIGN_IN):
        with world.app.app_context():
            if not registry(world.app).allows(ROLE_OF[cell.role], policy):
                return False
    if cell.record in (MISSING, CROSSED):
        return False
    if cell.endpoint in EVENT_MANAGEMENT:
        return cell.role == ADMIN
    if cell.endpoint in CASE_OWNERS_ONLY:  # the matrix's cases are the administrator's
        return cell.role in (ADMIN, REVIEWER) or (cell.role == ASSIGNED
                                                  and cell.record == RESTRICTED)
    return cell.record != RESTRICTED or cell.role in SEES_RESTRICTED


def ask(world: World, cell: Cell) -> Answer:
    """The request a person in that role would make (a POST with a valid CSRF token)."""
    client = world.app.test_client()
    if cell.role != ANONYMOUS:
        signed_in_client(world.app, world.users[cell.role], client)
    if cell.method == "GET":
        response = client.get(cell.url)
    else:
        token = client.csrf_token("/account/" if cell.role != ANONYMOUS else "/login")
        response = client.post(cell.url, data={"csrf_token": token})
    answer = Answer(response.status_code, response.location or "",
                    response.get_data(as_text=True))
    response.close()
    _keep_the_node_unlocked(world.app)  # the cell of keys.lock locks it
    return answer


def _keep_the_node_unlocked(app: Flask) -> None:
    from core import keystore

    with app.app_context():
        if not keystore.keystore(app).unlocked:
            keystore.keystore(app).unlock(TEST_PASSPHRASE)


def wrong(world: World, cell: Cell, answer: Answer, missing: Answer | None) -> str | None:
    """Why this cell's answer breaks the policy, or None."""
    if answer.status >= 500:
        return f"answered {answer.status}"
    if not allowed(world, cell):
        return _wrong_refusal(cell, answer, missing)
    policy = POLICY[cell.endpoint]
    if policy not in (ANYONE, OWN_SIGN_IN) and answer.refused:
        return f"refused an allowed user ({answer.status} {answer.location})"
    shown = [s for s in not_hers_to_see(world, cell.role) if s in answer.body]
    return f"an allowed page shows {shown}" if shown else None


def not_hers_to_see(world: World, role: str) -> list[str]:
    """What no page may show this role, wherever it appears (lists, exports, search): the
    restricted case unless she may open it, and real names without the right to see them."""
    hidden = [] if role in SEES_RESTRICTED else [
        RESTRICTED_TITLE, RESTRICTED_PSEUDONYM, REAL_NAMES[RESTRICTED]]
    with world.app.app_context():
        identifying = role != ANONYMOUS and registry(world.app).allows(ROLE_OF[role],
                                                                       VIEW_IDENTIFYING)
    return hidden + ([] if identifying else list(REAL_NAMES.values()))


def _wrong_refusal(cell: Cell, answer: Answer, missing: Answer | None) -> str | None:
    if POLICY[cell.endpoint] == NODES_ONLY:
        if not 400 <= answer.status < 500 or '"error"' not in answer.body:
            return f"an unsigned request was not refused with a reason ({answer.status})"
    elif not answer.refused:
        return f"not refused: {answer.status} {answer.location}"
    leaked = [s for s in (RESTRICTED_TITLE, RESTRICTED_PSEUDONYM, *REAL_NAMES.values())
              if s in answer.body]
    if leaked:
        return f"refused, but the page shows {leaked}"
    if cell.record == RESTRICTED and missing is not None and answer.status != missing.status:
        return (f"a restricted record answers {answer.status}, a missing one "
                f"{missing.status}: its existence shows")
    return None


# -- the matrix ----------------------------------------------------------------------------


def test_every_endpoint_has_a_declared_policy(world):
    undeclared = {rule.endpoint for rule in world.app.url_map.iter_rules()} - set(POLICY)
    assert not undeclared, f"Declare who may reach {sorted(undeclared)} in POLICY."
    gone = set(POLICY) - {rule.endpoint for rule in world.app.url_map.iter_rules()}
    assert not gone, f"POLICY names endpoints that no longer exist: {sorted(gone)}"


def test_the_policy_agrees_with_the_access_marks(world):
    """Public, signing-in and node-signed pages are exactly those core.access marks so."""
    marks = {ANYONE: access.PUBLIC, OWN_SIGN_IN: access.SIGNING_IN,
             NODES_ONLY: access.FEDERATION_SIGNED}
    for endpoint, policy in POLICY.items():
        assert access.access_of(world.app, endpoint) == marks.get(policy, access.SIGNED_IN), \
            endpoint


@pytest.mark.slow
@all_databases
def test_every_forbidden_cell_is_refused_and_every_allowed_one_opens(world, capsys):
    answers = {cell: ask(world, cell) for cell in cells(world)}
    by_place = {(c.endpoint, c.method, c.role, c.record): a for c, a in answers.items()}
    failures: list[str] = []
    tally: Counter = Counter()
    for cell, answer in answers.items():
        missing = by_place.get((cell.endpoint, cell.method, cell.role, MISSING))
        tally[cell.role, "allowed" if allowed(world, cell) else "refused"] += 1
        problem = wrong(world, cell, answer, missing)
        if problem:
            tally[cell.role, "wrong"] += 1
            failures.append(f"{cell.role:19} {cell.method:4} {cell.endpoint:28} "
                            f"{cell.record or '':10} {problem}")
    with capsys.disabled():
        print(_summary(tally, len(answers)))
    assert tally[ANONYMOUS, "refused"] > 0 and tally[ADMIN, "allowed"] > 0
    # the pages do show these values to those who may see them: their absence means something
    for role, value in ((ADMIN, RESTRICTED_TITLE), (ASSIGNED, RESTRICTED_PSEUDONYM),
                        (OTHER_DOCUMENTER, REAL_NAMES[OPEN]), (REVIEWER, REAL_NAMES[RESTRICTED])):
        assert any(value in a.body for c, a in answers.items() if c.role == role), (role, value)
    assert not failures, f"{len(failures)} cells break the policy:\n" + "\n".join(failures)


def _summary(tally: Counter, total: int) -> str:
    lines = [f"\nAccess matrix: {total} cells (routes × methods × records × roles)",
             f"{'role':20} {'allowed':>8} {'refused':>8} {'wrong':>6}"]
    for role in ROLES:
        lines.append(f"{role:20} {tally[role, 'allowed']:8d} {tally[role, 'refused']:8d} "
                     f"{tally[role, 'wrong']:6d}")
    return "\n".join(lines)
