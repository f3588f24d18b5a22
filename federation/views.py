"""Federation's pages: the endpoints other nodes call (signed), and the administrators'
peers pages (pairing, approval, last sync, lag, errors, quarantines).

Every refusal on a protocol path is the protocol's JSON ``{"error", "message"}`` — also when
no route takes the request (a trailing slash, ``PUT``): such a request is answered before
anything else looks at it, and writes nothing (no session, no row)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed

from core import clock, i18n, records
from core.access import federation_signed, public, require_permission
from core.dashboard import NavItem
from core.db import MAX_ID
from core.extensions import db
from core.forms import ConfirmForm
from federation import (
    catchup,
    hub,
    identity,
    inbox,
    incoming,
    outbox,
    peers,
    protocol,
    push,
    receipts,
    shared,
    signing,
    sync,
    takedown,
    transport,
)
from federation.forms import AddPeerForm, ApprovePeerForm
from federation.models import Cursor, Peer
from federation.permissions import MANAGE, READ_SHARED
from federation.protocol import RELAY
from federation.reasons import Refused
from federation.settings import is_hub, setting

MAX_LIMIT = 1000
MAX_HINT = 4 * 1024
MAX_RECEIPTS = 1024 * 1024
MAX_PAIR = 64 * 1024

blueprint = Blueprint("federation", __name__, template_folder="templates",
                      static_folder="static", static_url_path="/federation/static")
# The paths other nodes call (docs/federation.md, "Endpoints and messages").
PROTOCOL_PATHS = ("/.well-known/rabita", *identity.ENDPOINTS.values(), "/federation/takedowns",
                  catchup.HELD_PATH)


@blueprint.before_app_request
def refuse_unrouted_protocol_requests():
    """A request for a protocol path that no route takes — ``/federation/outbox/``, ``PUT
    /federation/receipts`` — gets the protocol's refusal, not an HTML page."""
    failure = request.routing_exception
    if failure is None or not is_protocol_path(request.path):
        return None
    code = "method-not-allowed" if isinstance(failure, MethodNotAllowed) else "not-found"
    return protocol_refusal(Refused(code))


def is_protocol_path(path: str) -> bool:
    return any(path == known or path.startswith(known + "/") for known in PROTOCOL_PATHS)


def protocol_refusal(refused: Refused) -> Response:
    """A refusal made before any signature is read: unsigned, and nothing to roll back."""
    return Response(protocol.dumps(refused.as_json()), status=refused.status,
                    content_type="application/json")


# -- what other nodes call -------------------------------------------------------------------


@blueprint.route("/.well-known/rabita")
@public
def node_document():
    """This node's signed document (public: pairing starts by reading it)."""
    if not signing.has_identity():
        return protocol_refusal(Refused("not-found"))
    if not signing.unlocked():  # the document is signed: a locked node signs nothing
        return incoming.refusal(Refused("node-locked"), None)
    return jsonify(identity.node_document())


def _signed(method: str, max_body: int, handle: Callable[[incoming.Incoming], dict], *,
            pairing: bool = False):
    """Verify, then handle; any refusal is answered with its reason and writes nothing.
    Each endpoint takes GET and POST so that a changed method is refused by the signature
    check (with a reason code), not by the router."""
    if not signing.unlocked():  # answered unsigned: a locked node signs nothing
        return incoming.refusal(Refused("node-locked"), None)
    message = None
    try:
        message = _message()
        received = incoming.receive(max_body, pairing=pairing)
        if request.method != method:
            raise Refused("bad-request", "wrong method")
        document = handle(received)
        db.session.commit()
        return incoming.answer(200, document, received.message)
    except Refused as refused:
        return incoming.refusal(refused, message)


def _message():
    return transport.Request(request.method, incoming.target_uri(),
                             transport.Headers(request.headers.items()))


@blueprint.route("/federation/outbox", methods=["GET", "POST"])
@federation_signed
def outbox_page():
    def handle(received: incoming.Incoming) -> dict:
        if set(request.args) - {"feed", "after", "limit"}:
            raise Refused("bad-request")
        feed = request.args.get("feed", "")
        after, limit = _number("after", 0), min(_number("limit", 500), MAX_LIMIT)
        if limit < 1:
            raise Refused("bad-request")
        if feed not in peers.readable_feeds(received.peer):
            raise Refused("feed-not-allowed")
        if feed == RELAY:
            items, head = inbox.relay_page(after, limit)
        else:
            items, head = outbox.page(feed, after, limit, recipient=received.peer.node_id)
        return {"type": protocol.PAGE_TYPE, "feed": feed, "after": after, "head": head,
                "items": items}

    return _signed("GET", incoming.NO_BODY, handle)


@blueprint.route("/federation/inbox", methods=["GET", "POST"])
@federation_signed
def inbox_hint():
    """A push hint: the peer has new entries. Pull stays the source of truth."""

    def handle(received: incoming.Incoming) -> dict:
        hint = protocol.strict_loads(received.body)
        if not isinstance(hint, dict) or set(hint) != {"type", "heads"} or \
                hint["type"] != protocol.HINT_TYPE or not isinstance(hint["heads"], dict):
            raise Refused("bad-request")
        received.peer.hinted_at = clock.now()
        return {"type": "rabita.ok/1"}

    return _signed("POST", MAX_HINT, handle)


@blueprint.route("/federation/receipts", methods=["GET", "POST"])
@federation_signed
def receipts_in():
    def handle(received: incoming.Incoming) -> dict:
        kept = receipts.receive(protocol.strict_loads(received.body), received.peer)
        return {"type": "rabita.ok/1", "kept": kept}

    return _signed("POST", MAX_RECEIPTS, handle)


@blueprint.route("/federation/push", methods=["GET", "POST"])
@federation_signed
def push_in():
    """A node this one cannot reach sends a page of its feed (1.1, ``federation.push``)."""
    return _signed("POST", push.MAX_PUSH, push.receive)


@blueprint.route("/federation/pair", methods=["GET", "POST"])
@federation_signed
def pair_request():
    """A node asks to pair; its own signed document says which key signed the request."""

    def handle(received: incoming.Incoming) -> dict:
        return {"type": "rabita.pair-answer/1", "state": received.peer.state}

    return _signed("POST", MAX_PAIR, handle, pairing=True)


@blueprint.route("/federation/keys", methods=["GET", "POST"])
@federation_signed
def vouched_keys():
    """A hub's signed list of the keys of its members."""

    def handle(received: incoming.Incoming) -> dict:
        if not is_hub():
            raise Refused("not-a-hub")
        if request.args:
            raise Refused("bad-request")
        return hub.vouch()

    return _signed("GET", incoming.NO_BODY, handle)


@blueprint.route(catchup.HELD_PATH, methods=["GET", "POST"])
@federation_signed
def held_entries():
    """1.1: the entries of the asker's own feed this node holds, for a restored asker to
    take back (federation.catchup)."""

    def handle(received: incoming.Incoming) -> dict:
        if set(request.args) - {"feed", "after", "limit"}:
            raise Refused("bad-request")
        limit = min(_number("limit", catchup.MAX_ITEMS), catchup.MAX_ITEMS)
        if limit < 1:
            raise Refused("bad-request")
        return catchup.held(received.peer, request.args.get("feed", ""), _number("after", 0),
                            limit)

    return _signed("GET", incoming.NO_BODY, handle)


@blueprint.route("/federation/takedowns", methods=["GET", "POST"])
@federation_signed
def takedowns():
    """A hub's signed takedown statements after number ``after`` (federation.takedown)."""

    def handle(received: incoming.Incoming) -> dict:
        if not is_hub():
            raise Refused("not-a-hub")
        if set(request.args) - {"after"}:
            raise Refused("bad-request")
        return takedown.statements(_number("after", 0))

    return _signed("GET", incoming.NO_BODY, handle)


def _number(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise Refused("bad-request")  # "²" and "٣" are digits to isdigit(), not to int()
    return int(value)


# -- the administrators' pages ---------------------------------------------------------------


def navigation() -> list[NavItem]:
    """Federation's pages in the menu (the ``navigation_items`` hook)."""
    items = [NavItem(_l("Shared with us"), "federation.shared_page", READ_SHARED, order=70),
             NavItem(_l("Partner nodes"), "federation.peers_page", MANAGE, order=80)]
    if is_hub():  # the hub's pages: a member node has no statistics to show
        items += [NavItem(_l("Statistics"), "federation.statistics_page", READ_SHARED, order=72),
                  NavItem(_l("Hub operations"), "federation.operations_page", MANAGE, order=82)]
    return items


@blueprint.route("/federation/peers")
@require_permission(MANAGE)
def peers_page():
    own = signing.identity() if signing.has_identity() else None
    everyone = peers.everyone()
    return render_template(
        "federation/peers.html", own=own, fingerprint=_own_fingerprint(own),
        qr=_pairing_qr(own), url=setting("FEDERATION_URL"), role=setting("FEDERATION_ROLE"),
        waiting=peers.waiting(), expires_at=peers.expires_at,
        approved=[p for p in everyone if p.state == "approved"],
        removed=[p for p in everyone if p.state == "removed"],
        lags={p.id: _lag(p) for p in everyone}, quarantined=sync.quarantined(),
        directions={p.id: push.direction(p) for p in everyone},
        approve_form=ApprovePeerForm(), action_form=ConfirmForm(), now=clock.now(),
    )


@blueprint.route("/federation/shared")
@require_permission(READ_SHARED)
def shared_page():
    """The records held, newest first, by cursor; searched (Arabic-aware) and filtered by
    the counted dimensions and by member node. Bad input: 400, saying which."""
    names = shared.origin_names()
    try:
        search = _shared_search(names)
        found, next_cursor = shared.page(request.args.get("after") or None, search)
    except shared.SearchError:
        return _shared_list(names, [], None, _(
            "That search cannot be answered: filters are codes from the lists, the member "
            "one this node knows.")), 400
    return _shared_list(names, found, next_cursor, None)


def _shared_list(names, found, next_cursor, error):
    asked = {name: value for name, value in request.args.items()
             if name in ("q", "origin", *shared.FACETS) and value}
    return render_template("federation/shared.html", records=found, next_cursor=next_cursor,
                           names=names, types=records.record_types(), asked=request.args,
                           search_arguments=asked, facets=shared.FACETS,
                           facet_labels=shared.facet_labels(), error=error)


def _shared_search(names: dict[str, str]) -> shared.Search:
    origin = request.args.get("origin") or None
    if origin is not None and origin not in names and not shared.holds_from(origin):
        raise shared.SearchError("not a node this one knows")
    facets = tuple((name, request.args[name].strip()) for name in shared.FACETS
                   if (request.args.get(name) or "").strip())
    return shared.Search(words=request.args.get("q", ""), facets=facets, origin=origin)


@blueprint.route("/federation/shared/<origin>/<record_id>")
@require_permission(READ_SHARED)
def shared_record(origin: str, record_id: str):
    found = shared.one(origin, record_id)
    if found is None:
        abort(404)
    return render_template("federation/shared_record.html", record=found,
                           shown=shared.readable(found, i18n.language()),
                           names=shared.origin_names(), types=records.record_types())


@blueprint.route("/federation/peers/add", methods=["GET", "POST"])
@require_permission(MANAGE)
def add_peer():
    form = AddPeerForm()
    if form.validate_on_submit():
        try:
            peer = peers.add(form.url.data, form.fingerprint.data, form.label.data or "",
                             current_user, send_request=False)
        except Refused as refused:
            db.session.rollback()
            form.form_errors.append(_refusal_text(refused.code))
        except peers.PairingError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
        else:
            try:
                state = peers.request_pairing(peer)
            except Refused:
                flash(_("Added and approved on this node. The other node could not be "
                        "reached to be asked; it can add this node itself."), "error")
            else:
                flash(_("Added and approved. The other node's administrator now approves "
                        "this node with its fingerprint.") if state != "approved" else
                      _("Added and approved on both nodes: they are paired."), "success")
            return redirect(url_for("federation.peers_page"))
    own = signing.identity() if signing.has_identity() else None
    return render_template("federation/add.html", form=form,
                           fingerprint=_own_fingerprint(own))


@blueprint.route(f"/federation/peers/<int(min=1, max={MAX_ID}):peer_id>/approve", methods=["POST"])
@require_permission(MANAGE)
def approve_peer(peer_id: int):
    peer = db.session.get(Peer, peer_id) or abort(404)
    form = ApprovePeerForm()
    if not form.validate_on_submit():
        abort(400)
    if form.label.data:
        peer.label = form.label.data[:100]
    try:
        peers.approve(peer, form.fingerprint.data, current_user)
    except Refused as refused:
        db.session.rollback()
        flash(_refusal_text(refused.code), "error")
    else:
        flash(_("Approved: the two nodes are paired."), "success")
    return redirect(url_for("federation.peers_page"))


@blueprint.route(f"/federation/peers/<int(min=1, max={MAX_ID}):peer_id>/remove", methods=["POST"])
@require_permission(MANAGE)
def remove_peer(peer_id: int):
    peer = db.session.get(Peer, peer_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    peers.remove(peer, current_user)
    flash(_("Removed: nothing more is sent to or taken from that node."), "success")
    return redirect(url_for("federation.peers_page"))


@blueprint.route(f"/federation/peers/<int(min=1, max={MAX_ID}):peer_id>/direction",
                 methods=["POST"])
@require_permission(MANAGE)
def set_direction(peer_id: int):
    """Which way records go with a peer (federation.push): auto, both, send or receive."""
    peer = db.session.get(Peer, peer_id) or abort(404)
    chosen = request.form.get("direction", "")
    if not ConfirmForm().validate_on_submit() or chosen not in ("auto", *push.DIRECTIONS):
        abort(400)
    push.set_direction(peer, None if chosen == "auto" else chosen, current_user)
    flash(_("Saved: the next sync round goes this way."), "success")
    return redirect(url_for("federation.peers_page"))


@blueprint.route("/federation/peers/refuse-all", methods=["POST"])
@require_permission(MANAGE)
def refuse_all_requests():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    refused = peers.refuse_all(current_user)
    flash(ngettext("%(num)d pairing request refused and forgotten.",
                   "%(num)d pairing requests refused and forgotten.", refused), "success")
    return redirect(url_for("federation.peers_page"))


@blueprint.route("/federation/quarantine/<origin>/release", methods=["POST"])
@require_permission(MANAGE)
def release(origin: str):
    if not ConfirmForm().validate_on_submit() or not protocol.NODE_ID.match(origin):
        abort(400)
    if sync.release(origin, current_user):
        flash(_("The quarantine is lifted; the next sync checks that node's feed again."),
              "success")
    return redirect(url_for("federation.peers_page"))


def _own_fingerprint(own) -> str | None:
    return identity.fingerprint(own.genesis.public_key) if own is not None else None


def _pairing_qr(own):
    if own is None:
        return None
    text = "rabita:pair?" + urlencode({"url": setting("FEDERATION_URL"),
                                       "fp": _own_fingerprint(own).replace(" ", "")})
    return identity.qr_svg(text)


def _lag(peer: Peer) -> int | None:
    """How many entries the peer has that this node has not pulled yet (at the last sync)."""
    cursors = list(db.session.scalars(select(Cursor).where(Cursor.peer_id == peer.id)))
    if not cursors:
        return None
    return sum(max(c.remote_head - c.after, 0) for c in cursors)


def _refusal_text(code: str) -> str:
    texts = {
        "fingerprint-mismatch": _("The fingerprint does not match that node's key. Check it "
                                  "with its administrator; nothing was changed."),
        "unreachable": _("That node could not be reached at this address; nothing was "
                         "changed."),
    }
    return texts.get(code, _("The node's answer was refused (%(code)s); nothing was changed.",
                             code=code))
