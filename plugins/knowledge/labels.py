"""The words shown for the knowledge plugin's codes (types, languages, audiences, licences)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "guide": _l("Guide"),
    "report": _l("Report"),
    "toolkit": _l("Toolkit"),
    "training": _l("Training material"),
    "legal_analysis": _l("Legal analysis"),
    "statement": _l("Statement"),
    "safety_advice": _l("Safety advice"),
    "testimony": _l("Testimony"),
    "experience": _l("Shared experience"),
}
LANGUAGE_LABELS = {"ar": "العربية", "fr": "Français", "en": "English"}
AUDIENCE_LABELS = {
    "node": _l("This node only"),
    "coalition": _l("The coalition (partner nodes and the hub)"),
    "public": _l("Public (also on the hub's public page)"),
}
LICENCE_LABELS = {
    "cc-by-4.0": "CC BY 4.0",
    "cc-by-sa-4.0": "CC BY-SA 4.0",
    "cc-by-nc-4.0": "CC BY-NC 4.0",
    "cc-by-nc-sa-4.0": "CC BY-NC-SA 4.0",
    "cc0-1.0": "CC0 1.0",
    "all-rights-reserved": _l("All rights reserved"),
}
