"""Factories for the knowledge tests: an app with the plugin, a resource as the editor would
write it, and small files of each kind."""

from __future__ import annotations

import io
from datetime import date

import pytest
from werkzeug.datastructures import FileStorage

from core.extensions import db
from core.models import User
from plugins.knowledge import store
from tests.federation.conftest import federation_app  # noqa: F401 -- its fixture, for sharing

PLUGIN = "plugins.knowledge"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
       b"\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def resource_data(**changes) -> dict:
    """What the editor's form gives."""
    data = {"kind": "guide", "language": "fr", "title": "Guide de sécurité numérique",
            "summary": "Téléphones, mots de passe, messageries.",
            "body": "# Avant une manifestation\n\nÉteignez la **localisation**.",
            "tags": "sécurité numérique, téléphones", "licence": "cc-by-4.0",
            "published_on": date(2026, 3, 8), "audience": "coalition",
            "byline": "Collectif Nissa", "authors": "Salma Qzxhaddad\nNour Qzxbenali",
            "translation_of": "", "narrator": "", "contact": ""}
    return {**data, **changes}


def story_data(**changes) -> dict:
    return resource_data(**{"kind": "testimony", "title": "Ce que Rim Qzxtlili a vécu à Sfax",
                            "summary": "Arrêtée deux fois.",
                            "body": "Rim Qzxtlili raconte. Appeler le +216 20 123 456.",
                            "audience": "coalition", "byline": "",
                            "narrator": "Rim Qzxtlili", "contact": "+216 20 123 456",
                            **changes})


def upload(data: bytes, name: str = "guide.pdf", content_type: str = "application/pdf"):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS=[PLUGIN], unlocked=True)


@pytest.fixture
def make_resource(app):
    """``make_resource(user, **changes)``: a saved resource (inside a request context)."""

    def make(user, *, file=None, **changes):
        data = story_data(**changes) if changes.get("kind") in ("testimony", "experience") \
            else resource_data(**changes)
        return store.write(None, data, db.session.get(User, user.id), upload=file)

    return make
