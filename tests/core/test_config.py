"""Configuration: defaults, the instance file, RABITA_* variables, and the secret rule."""

import pytest

from core.app import create_app
from core.config import StartupError


def test_the_instance_file_then_the_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'k' * 40\nNODE_NAME = 'From the file'\nPLUGINS = []\n"
    )
    monkeypatch.setenv("RABITA_NODE_NAME", "From the environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["NODE_NAME"] == "From the environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'rabita.db'}"


def test_no_secret_outside_tests_stops_start_up(tmp_path, monkeypatch):
    monkeypatch.delenv("RABITA_SECRET_KEY", raising=False)
    with pytest.raises(StartupError, match="SECRET_KEY is not set. Run `rabita init`"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_a_short_secret_stops_start_up(tmp_path):
    with pytest.raises(StartupError, match="shorter than 32"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "short"})


def test_plugins_are_off_by_default(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 40})
    assert app.config["PLUGINS"] == []


def test_database_errors_hide_their_parameters(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
