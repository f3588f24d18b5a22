"""Sample resources (the demo's): written through the store as the editor would, one per
audience asked, different ones while they last, their authors sealed and invented."""

from sqlalchemy import select

from core import consent, records
from core.extensions import db
from core.models import User
from plugins.knowledge import sample
from plugins.knowledge.models import Resource


def test_sample_resources_follow_the_audiences_asked_and_say_they_are_fictional(app, make_user):
    salma = make_user("salma", role="documenter")
    with app.test_request_context():
        written = sample.create(db.session.get(User, salma.id), ["coalition", "public", "node"],
                                seed="beirut")
        resources = db.session.scalars(select(Resource).order_by(Resource.id)).all()
        assert [r.uuid for r in resources] == [r.uuid for r in written]
        assert [r.audience for r in resources] == ["coalition", "public", "node"]
        assert [bool(consent.allows(r, "hub")) for r in resources] == [True, True, False]
        assert len({r.title for r in resources}) == 3
        for resource in resources:
            authors = records.identifying_value(resource, resource, "authors")
            assert authors and all(name in sample.AUTHORS for name in authors)
            assert resource.title in {title for _k, _l, title, *_rest in sample.RESOURCES}
