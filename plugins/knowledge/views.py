"""Knowledge's pages (being written)."""

from __future__ import annotations

from flask import Blueprint

from core.access import require_permission

from .permissions import VIEW

blueprint = Blueprint("knowledge", __name__, url_prefix="/knowledge", template_folder="templates")


@blueprint.route("/")
@require_permission(VIEW)
def index():
    return ""
