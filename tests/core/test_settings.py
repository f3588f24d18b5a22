"""Plugin settings: typed defaults, checked at start-up, named after their plugin."""

import pytest

from core.settings import Setting, SettingError, declared


def _plugin(make_plugin, *settings):
    return make_plugin("notes", register_settings=lambda: list(settings))


def test_an_unset_setting_gets_its_default_and_is_listed(make_app, make_plugin):
    per_page = Setting("NOTES_PER_PAGE", 50, "notes on one page")
    app = make_app(PLUGINS=[_plugin(make_plugin, per_page)])
    assert app.config["NOTES_PER_PAGE"] == 50
    assert declared(app) == {"NOTES_PER_PAGE": per_page}


@pytest.mark.parametrize("value, words", [
    ("s3cret-fifty", "must be a whole number, not text"),
    (True, "must be a whole number, not True or False"),
    (2.5, "must be a whole number, not a number"),
])
def test_a_value_of_the_wrong_type_stops_start_up_without_quoting_it(make_app, make_plugin,
                                                                       value, words):
    with pytest.raises(SettingError, match=words) as stopped:
        make_app(PLUGINS=[_plugin(make_plugin, Setting("NOTES_PER_PAGE", 50, "per page"))],
                 NOTES_PER_PAGE=value)
    assert "s3cret" not in str(stopped.value)  # a setting's value may be a secret


def test_choices_kinds_and_none(make_app, make_plugin):
    settings = (Setting("NOTES_SORT", "newest", "order", choices=("newest", "oldest")),
                Setting("NOTES_WAIT", 60, "seconds", kind=float),
                Setting("NOTES_PROXY", None, "a proxy", kind=(str, type(None))))
    app = make_app(PLUGINS=[_plugin(make_plugin, *settings)], NOTES_WAIT=0.5,
                   NOTES_PROXY="socks5h://127.0.0.1:9050")
    assert app.config["NOTES_WAIT"] == 0.5 and app.config["NOTES_PROXY"].startswith("socks5h")
    with pytest.raises(SettingError, match="must be one of 'newest', 'oldest'"):
        make_app(PLUGINS=[_plugin(make_plugin, *settings)], NOTES_SORT="random")


def test_a_setting_from_the_environment_is_checked_too(make_app, make_plugin, monkeypatch):
    monkeypatch.setenv("RABITA_NOTES_PER_PAGE", '"many"')
    with pytest.raises(SettingError, match="RABITA_NOTES_PER_PAGE"):
        make_app(PLUGINS=[_plugin(make_plugin, Setting("NOTES_PER_PAGE", 50, "per page"))])


@pytest.mark.parametrize("setting, words", [
    (Setting("PER_PAGE", 50, "per page"), "start with 'NOTES_'"),
    (Setting("NOTES_per_page", 50, "per page"), "in capitals"),
    (Setting("NOTES_SORT", "any", "order", choices=("newest",)), "The default of NOTES_SORT"),
])
def test_a_badly_declared_setting_stops_start_up(make_app, make_plugin, setting, words):
    with pytest.raises(SettingError, match=words):
        make_app(PLUGINS=[_plugin(make_plugin, setting)])


def test_federation_declares_its_settings(make_app):
    app = make_app(PLUGINS=["federation"])
    assert app.config["FEDERATION_ROLE"] == "node"
    assert app.config["FEDERATION_TIMEOUT"] == (10, 60)
    assert all(name.startswith("FEDERATION_") for name in declared(app))
    with pytest.raises(SettingError, match="FEDERATION_ROLE .* must be one of 'node', 'hub'"):
        make_app(PLUGINS=["federation"], FEDERATION_ROLE="relay")


def test_the_settings_command_lists_them_without_their_values(make_app, make_plugin):
    settings = (Setting("NOTES_PER_PAGE", 50, "notes on one page"),
                Setting("NOTES_TOKEN", "", "a token for the notes service"))
    app = make_app(PLUGINS=[_plugin(make_plugin, *settings)], NOTES_TOKEN="s3cret-token")
    result = app.test_cli_runner().invoke(args=["settings"])
    assert result.exit_code == 0, result.output
    assert "NOTES_PER_PAGE = 50  [default]  notes on one page" in result.output
    assert "NOTES_TOKEN = ''  [changed]  a token for the notes service" in result.output
    assert "s3cret" not in result.output
