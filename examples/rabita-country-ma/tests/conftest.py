"""The plugin's tests use Rabita's fixtures (make_app, make_user, login_as...), on a node with
the cases plugin and this one turned on by its entry-point name, as a node's config does."""

import pytest

pytest_plugins = ["core.testing"]

PLUGINS = ["plugins.cases", "country_ma"]


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS=PLUGINS, unlocked=True)
