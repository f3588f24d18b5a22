"""Tally entries: a record counted on a hub without ever being held there.

A record whose consent covers ``public-aggregate`` and the ``statistics`` purpose but not the
``hub`` audience leaves its node, once a reviewer approved it for ``public-aggregate``, as a
``tally`` entry in the ``hub`` feed: its payload is the record redacted for the public
(``core.redaction.PUBLIC``: codes only) and cut down to the dimensions a hub counts. The
entry names the record by a *tally id*, a random UUID kept on the node only (beside the
entry, never derived from the record's id), so a tally cannot be linked to the record's
entries in other feeds. The hub turns a tally into public statistics facts and keeps
nothing else of its payload (docs/federation.md, "Tally entries").
"""

from __future__ import annotations

from core.vocabularies import vocabulary
from federation import protocol
from federation.protocol import HUB
from federation.reasons import Refused

STATISTICS = "statistics"
PUBLIC = "public-aggregate"
# The vocabularies a tally's codes are checked against on the hub, when it knows them (a hub
# without the cases plugin checks their form only).
VOCABULARIES = {"violation": "cases.violation", "perpetrator_type": "cases.perpetrator",
                "activism": "cases.activism"}


def wanted(given) -> bool:
    """Whether a consent sends its record as a tally: ``public-aggregate`` and
    ``statistics``, and not the hub (then the record itself goes, and is counted)."""
    return given is not None and given.id is not None and \
        PUBLIC in given.audience_list and STATISTICS in given.purpose_list and \
        HUB not in given.audience_list


def payload(public: dict) -> dict:
    """The counted dimensions of a payload redacted for ``public-aggregate``: what is not a
    code of them is left out (a place cut to its governorate, a date to its month)."""
    found: dict = {}
    if _is_code(public.get("status")):
        found["status"] = public["status"]
    defender = public.get("defender") if isinstance(public.get("defender"), dict) else {}
    person = {}
    if _is_code(defender.get("age"), protocol.TALLY_AGE):
        person["age"] = defender["age"]
    activism = defender.get("activism")
    if isinstance(activism, list):
        person["activism"] = sorted({a for a in activism if _is_code(a)})
    if person:
        found["defender"] = person
    incidents = public.get("incidents")
    if isinstance(incidents, list):
        found["incidents"] = [_incident(i) for i in incidents if isinstance(i, dict)]
    return found


def _incident(incident: dict) -> dict:
    found = {}
    month = incident.get("occurred_on")
    if isinstance(month, str) and protocol.TALLY_MONTH.match(month[:7]):
        found["occurred_on"] = month[:7]
    place = incident.get("place")
    if isinstance(place, str) and protocol.TALLY_PLACE.match(place.partition(":")[0]):
        found["place"] = place.partition(":")[0]
    for name in ("violation", "perpetrator_type"):
        if _is_code(incident.get(name)):
            found[name] = incident[name]
    return found


def _is_code(value, pattern=protocol.TALLY_CODE) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None


# -- on the hub ----------------------------------------------------------------------------


def check_vocabularies(value: dict) -> None:
    """Refuse (``tally-invalid``) a code its vocabulary, known to this hub, does not hold."""
    for incident in value.get("incidents", []):
        for name in ("violation", "perpetrator_type"):
            _known(name, incident.get(name))
    for code in value.get("defender", {}).get("activism", []):
        _known("activism", code)


def _known(name: str, code) -> None:
    words = vocabulary(VOCABULARIES[name])
    if code is not None and words.get(code) is None and any(True for _ in words):
        raise Refused("tally-invalid", f"{name} is not in its vocabulary")

