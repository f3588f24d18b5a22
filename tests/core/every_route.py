"""A node with one of everything a URL can name, for the tests that walk every route of the
URL map with every built-in plugin loaded (the access matrix, malformed ids): the people of
each role, a restricted and an open case with a consent, a task and a file each, a partner
that shared a record, a spare peer, an invitation and a static file per folder."""

from __future__ import annotations

import io
import random
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Flask
from werkzeug.datastructures import FileStorage

from core.permissions import ADMIN, DOCUMENTER, MEMBER, REVIEWER
from core.testing import add_person, builtin_plugins

ANONYMOUS, ASSIGNED, OTHER_DOCUMENTER = "anonymous", "documenter-assigned", "documenter-other"
ROLES = (ANONYMOUS, MEMBER, ASSIGNED, OTHER_DOCUMENTER, REVIEWER, ADMIN)
ROLE_OF = {MEMBER: MEMBER, ASSIGNED: DOCUMENTER, OTHER_DOCUMENTER: DOCUMENTER,
           REVIEWER: REVIEWER, ADMIN: ADMIN}
SEES_RESTRICTED = {ADMIN, REVIEWER, ASSIGNED}

RESTRICTED, OPEN, MISSING = "restricted", "open", "missing"
CROSSED = "crossed"  # the open record's URL with the restricted record's consent, task or file
# URL parts that name a record of this node: their routes are tried on all three records.
RECORD_ARGUMENTS = {"uuid", "record_uuid"}
# URL parts that name a part of that record: their routes are tried crossed too.
PART_ARGUMENTS = {"consent_id", "task_uuid", "file_uuid", "evidence_id"}
# What the matrix writes into a restricted case and must never find on a refused page.
RESTRICTED_TITLE = "Matrix-restricted summons QX7"
RESTRICTED_PSEUDONYM = "Zaytouna-QX7"
REAL_NAMES = {RESTRICTED: "Rim Matrixrestricted", OPEN: "Asma Matrixopen"}


@dataclass
class World:
    """A node with one of everything a URL can name, and who is who on it."""

    app: Flask
    users: dict[str, int]
    cases: dict[str, str]
    consents: dict[str, int]
    tasks: dict[str, str]
    files: dict[str, str]
    spare_peer: int
    victim: int
    origin: str
    shared_id: str
    invite: str
    spare_invite: int
    static_files: dict[str, str] = field(default_factory=dict)

    def value(self, argument: str, endpoint: str, record: str):
        """A real value of the right kind for one URL part (the record's, where it has one)."""
        owner = {MISSING: OPEN, CROSSED: RESTRICTED}.get(record, record)
        fillers = {
            "uuid": lambda: self.record_uuid(record),
            "record_uuid": lambda: self.record_uuid(record),
            "record_type": lambda: "cases.case",
            "consent_id": lambda: self.consents[owner],
            "task_uuid": lambda: self.tasks[owner],
            "file_uuid": lambda: self.files[owner],
            "evidence_id": lambda: self.evidence(owner),
            "audience": lambda: "peers",
            "fmt": lambda: "csv",
            "user_id": lambda: self.victim,
            "action": lambda: "disable",
            "peer_id": lambda: self.spare_peer,
            "origin": lambda: self.origin,
            "record_id": lambda: self.shared_id,
            "token": lambda: self.invite,
            "invite_id": lambda: self.spare_invite,
            "filename": lambda: self.static_files[endpoint],
            "event_uuid": self.event_uuid,
            "resource_uuid": lambda: self.resource()[0],
            "attachment_uuid": lambda: self.resource()[1],
            "version_number": lambda: 1,
            "tag": lambda: "matrix",
        }
        if argument not in fillers:
            raise AssertionError(f"The matrix does not know how to fill <{argument}> of "
                                 f"{endpoint}: add a real value of that kind to World.value.")
        return fillers[argument]()

    def event_uuid(self) -> str:
        """An event of this node (made the first time a route asks for one)."""
        if not hasattr(self, "_event_uuid"):
            self._event_uuid = _event(self.app, self.users[ADMIN])
        return self._event_uuid

    def evidence(self, owner: str) -> int:
        """A scanned form of that record's consent (made the first time a route asks)."""
        made = self.__dict__.setdefault("_evidence", {})
        if owner not in made:
            made[owner] = _evidence(self.app, self.cases[owner], self.consents[owner],
                                    self.users[ADMIN])
        return made[owner]

    def resource(self) -> tuple[str, str]:
        """A resource of the library with a file and an earlier version (made the first time
        a route asks for one): its id and its file's."""
        if not hasattr(self, "_resource"):
            self._resource = _resource(self.app, self.users[ADMIN])
        return self._resource

    def record_uuid(self, record: str) -> str:
        if record == MISSING:
            return str(uuid_module.uuid4())
        return self.cases[OPEN if record == CROSSED else record]


# -- the node ------------------------------------------------------------------------------


def build_world(make_app) -> World:
    """The node (SQLite or PostgreSQL, as ``make_app``'s database), unlocked, with its
    federation identity made before any record (records carry the node id as origin)."""
    app = make_app(PLUGINS=builtin_plugins(), unlocked=True)
    with app.test_request_context():
        from federation import signing

        app.config["NODE_ID"] = signing.create_identity(app).node_id
        users = {role: add_person(role.replace("-", ""), ROLE_OF[role]).id
                 for role in ROLES if role != ANONYMOUS}
        victim = add_person("victim", MEMBER).id
        cases = {RESTRICTED: _case(users, restricted=True), OPEN: _case(users, restricted=False)}
        consents, tasks, files = _children(cases, users)
        origin, shared_id, spare_peer = _partners(app)
        invite, _ = _invite(users[ADMIN], "newcomer")
        _, spare_invite = _invite(users[ADMIN], "latecomer")  # the one pages may revoke
    return World(app, users, cases, consents, tasks, files, spare_peer, victim, origin,
                 shared_id, invite, spare_invite, _static_files(app))


def _case(users: dict[str, int], *, restricted: bool) -> str:
    from core import records
    from core.extensions import db
    from core.models import User
    from plugins.cases import sample

    admin = db.session.get(User, users[ADMIN])
    case = sample.build(random.Random(11 if restricted else 12), admin)
    case.restricted = restricted
    case.assigned_to_id = users[ASSIGNED] if restricted else None
    if restricted:
        case.title, case.defender.pseudonym = RESTRICTED_TITLE, RESTRICTED_PSEUDONYM
    which = RESTRICTED if restricted else OPEN
    records.set_identifying(case, case.defender, "real_name", REAL_NAMES[which])
    sample.save([case], admin)
    return case.uuid


def _event(app: Flask, admin_id: int) -> str:
    from core.extensions import db
    from core.models import User
    from plugins.events import store

    with app.test_request_context():
        return store.write(None, {
            "title": "Matrix training", "kind": "training", "timezone": "Africa/Tunis",
            "starts_at": datetime(2026, 5, 4, 10), "ends_at": datetime(2026, 5, 4, 12),
            "location_visibility": "exact", "audience": "coalition",
            "registration_open": True}, db.session.get(User, admin_id)).uuid


def _evidence(app: Flask, case_uuid: str, consent_id: int, admin_id: int) -> int:
    from sqlalchemy import select

    from core import evidence
    from core.extensions import db
    from core.models import Consent, User
    from plugins.cases.models import Case

    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.uuid == case_uuid))
        scan = FileStorage(io.BytesIO(b"%PDF-1.4\n% matrix consent form\n"), filename="f.pdf")
        return evidence.add_scan(case, db.session.get(Consent, consent_id), scan,
                                 db.session.get(User, admin_id)).id


def _resource(app: Flask, admin_id: int) -> tuple[str, str]:
    from core.extensions import db
    from core.models import User
    from plugins.knowledge import store

    data = {"kind": "guide", "language": "fr", "title": "Matrix guide", "body": "**Texte**",
            "licence": "cc-by-4.0", "audience": "coalition"}
    pdf = FileStorage(stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="guide.pdf")
    with app.test_request_context():
        admin = db.session.get(User, admin_id)
        resource = store.write(None, data, admin, upload=pdf)
        store.write(resource, {**data, "title": "Matrix guide, second edition"}, admin)
        return resource.uuid, store.attachments.of(resource)[0].uuid


def _children(cases: dict[str, str], users: dict[str, int]):
    """A consent, a task and a file on each case, as their pages would make them."""
    from sqlalchemy import select

    from core import consent, records
    from core.extensions import db
    from core.models import User
    from plugins.cases import attachments
    from plugins.cases.models import Case, Task

    admin = db.session.get(User, users[ADMIN])
    consents, tasks, files = {}, {}, {}
    for which, uuid in cases.items():
        case = db.session.scalar(select(Case).where(Case.uuid == uuid))
        consents[which] = consent.record(
            case, user=admin, given_by="defender", method="oral", audiences=["peers"],
            purposes=["advocacy"], obtained_on=date(2026, 1, 1)).id
        task = Task(due_on=date(2026, 2, 1), assigned_to_id=admin.id)
        case.tasks.append(task)
        records.set_identifying(case, task, "description", "Call the lawyer")
        db.session.commit()
        tasks[which] = task.uuid
        upload = FileStorage(io.BytesIO(b"Notes of the interview.\n"), filename="notes.txt")
        files[which] = attachments.add(case, upload, admin).uuid
    return consents, tasks, files


def _partners(app: Flask) -> tuple[str, str, int]:
    """A partner that shared one record with this node, and another peer that holds nothing."""
    from sqlalchemy import select

    from core.extensions import db
    from federation import inbox
    from federation.models import Peer
    from tests.federation.conftest import Origin, as_item

    partner, spare = Origin(seed=21), Origin(seed=22)
    partner.pin(app)
    spare.pin(app)
    shared_id = str(uuid_module.uuid4())
    item = partner.record("peers", shared_id, payload={"title": "Shared summons"})
    inbox.apply([as_item(item)], received_from=partner.node_id)
    db.session.commit()
    spare_peer = db.session.scalar(select(Peer.id).where(Peer.node_id == spare.node_id))
    return partner.node_id, shared_id, spare_peer


def _invite(admin_id: int, username: str) -> tuple[str, int]:
    """An invitation's token and its id."""
    from sqlalchemy import select

    from core import users
    from core.extensions import db
    from core.models import Invite, User

    token = users.invite(username, MEMBER, actor=db.session.get(User, admin_id))
    db.session.commit()
    return token, db.session.scalar(select(Invite.id).order_by(Invite.id.desc()).limit(1))


def _static_files(app: Flask) -> dict[str, str]:
    """One real file of each static folder, by its endpoint."""
    from pathlib import Path

    found = {}
    for endpoint, folder in [("static", app.static_folder)] + [
            (f"{name}.static", blueprint.static_folder)
            for name, blueprint in app.blueprints.items() if blueprint.static_folder]:
        found[endpoint] = sorted(p.name for p in Path(folder).iterdir() if p.is_file())[0]
    return found


