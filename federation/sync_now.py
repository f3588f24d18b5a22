"""'Sync now' from the partner page: an administrator starts a round with one peer without
the server's command line, and watches it.

The round runs in a thread of the serving process, not in the request (a round can take
minutes), with its own app context and database session: the same ``sync.sync`` the command
runs, one peer. Its progress and result are kept in this process (``_jobs``), which the page
reads (it refreshes itself while a round runs; no JavaScript needed); the peer's row keeps the
lasting part as every round does (last success, last error). One round per peer at a time in a
process; under several worker processes a second one started elsewhere meets the first
through the peer's own row (``sync`` answers it as any concurrent round).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, abort, current_app, flash, jsonify, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, clock, keystore
from core.access import require_permission
from core.db import MAX_ID
from core.extensions import db
from core.forms import ConfirmForm
from federation import restored, sync
from federation.models import Peer
from federation.permissions import MANAGE
from federation.views import blueprint

RUNNING, DONE = "running", "done"
ELSEWHERE = "elsewhere"  # its turn was running in another process (another app server)


@dataclass
class Job:
    state: str = RUNNING
    started_at: datetime = field(default_factory=clock.now)
    finished_at: datetime | None = None
    taken: int = 0  # entries taken so far
    to_go: int | None = None  # entries still to take, as the peer last said
    result: str | None = None  # "ok", a reason code (federation.reasons), "locked", "failed",
    # or ELSEWHERE


_jobs: dict[tuple[int, int], Job] = {}  # (id of the app, peer id) -> its last round here
_lock = threading.Lock()


def job(peer_id: int, app: Flask | None = None) -> Job | None:
    return _jobs.get((id(app or current_app._get_current_object()), peer_id))


def jobs() -> dict[int, Job]:
    app = id(current_app._get_current_object())
    return {peer: found for (owner, peer), found in _jobs.items() if owner == app}


def start(peer: Peer, user) -> bool:
    """Start a round with ``peer`` in the background; False if one is running here."""
    app = current_app._get_current_object()
    key = (id(app), peer.id)
    with _lock:
        running = _jobs.get(key)
        if running is not None and running.state == RUNNING:
            return False
        _jobs[key] = Job()
    audit.record("federation.sync_started", actor=user, target_type="federation.peer",
                 target_id=peer.node_id)
    db.session.commit()
    threading.Thread(target=_run, args=(app, peer.id, _jobs[key]), daemon=True,
                     name=f"sync-now-{peer.id}").start()
    return True


def _run(app: Flask, peer_id: int, running: Job) -> None:
    def progress(_peer, _feed, done: int, to_go: int) -> None:
        running.taken += done
        running.to_go = to_go

    with app.app_context():
        try:
            peer = db.session.get(Peer, peer_id)
            if peer is None:
                result = "unknown-peer"
            else:
                outcomes = sync.sync(peer, progress)
                result = (outcomes[0].error if outcomes else None) or (
                    ELSEWHERE if outcomes and outcomes[0].notes else "ok")
        except keystore.NodeLocked:
            result = "locked"
        except restored.FeedsBehind:  # restored, and could not take its feeds back yet
            db.session.rollback()
            result = "behind"
        except Exception as error:  # noqa: BLE001 - said on the page; the type only is logged
            db.session.rollback()
            app.logger.error("Sync now failed: %s", type(error).__name__)
            result = "failed"
        finally:
            db.session.remove()
    running.result, running.finished_at, running.state = result, clock.now(), DONE


def said(found: Job | None) -> str:
    """A round's state in words."""
    if found is None:
        return ""
    if found.state == RUNNING:
        if found.to_go:
            return _("Syncing: %(taken)d entries taken, %(left)d to go.", taken=found.taken,
                     left=found.to_go)
        return _("Syncing: %(taken)d entries taken so far.", taken=found.taken)
    at = found.finished_at.strftime("%H:%M:%S") if found.finished_at else ""
    if found.result == "ok":
        return _("Synced at %(time)s: %(taken)d entries taken.", time=at, taken=found.taken)
    if found.result == "locked":
        return _("Not synced: the node is locked.")
    if found.result == "behind":
        return _("Not synced: this node was restored from a backup and could not yet take its "
                 "own records back from every partner. The command rabita federation catch-up "
                 "says which.")
    if found.result == ELSEWHERE:
        return _("Not synced here: another server of this node is syncing this partner now.")
    return _("Sync failed at %(time)s: %(why)s", time=at, why=reason_in_words(found.result))


def reason_in_words(code: str | None) -> str:
    words = {
        "unreachable": _("the node could not be reached."),
        "circuit-open": _("after several failures the node is rested; try again later."),
        "failed": _("something went wrong on this node; the log says what."),
        "gap": _("its feed has a gap: it is quarantined until an administrator checks."),
        "fork": _("its feed forked: it is quarantined until an administrator checks."),
        "unknown-peer": _("this partner was removed."),
    }
    return words.get(code or "", _("its answer was refused (%(code)s).", code=code))


@blueprint.context_processor
def _sync_jobs() -> dict:
    """For the partner page: each peer's round started here, in words."""
    return {"sync_jobs": jobs, "sync_said": said, "sync_running": RUNNING}


@blueprint.route(f"/federation/peers/<int(min=1, max={MAX_ID}):peer_id>/sync",
                 methods=["POST"])
@require_permission(MANAGE)
def sync_now(peer_id: int):
    peer = db.session.get(Peer, peer_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        flash(_("This form had expired: press Sync now again."), "error")
        return redirect(url_for("federation.peers_page"))
    if peer.state != "approved":
        flash(_("Not synced: this partner is not approved."), "error")
    elif not keystore.keystore().unlocked:
        flash(_("Not synced: the node is locked."), "error")
    elif start(peer, current_user):
        flash(_("Sync started with %(name)s.", name=peer.label or peer.node_id[:12]), "info")
    else:
        flash(_("A sync with this node is already running."), "info")
    return redirect(url_for("federation.peers_page", _anchor=f"peer-{peer_id}"))


@blueprint.route(f"/federation/peers/<int(min=1, max={MAX_ID}):peer_id>/sync")
@require_permission(MANAGE)
def sync_state(peer_id: int):
    found = job(peer_id)
    return jsonify({"state": found.state if found else None, "said": said(found),
                    "taken": found.taken if found else 0,
                    "result": found.result if found else None})
