"""Tunisia's national identity card number (carte d'identité nationale, CIN): eight digits,
written as one run ("08123456") or in groups; scrubbing finds it in Western, Arabic-Indic and
Eastern Arabic-Indic digits alike (``core.text`` folds them before matching)."""

from __future__ import annotations

from core.scrub import ScrubPattern

CIN = ScrubPattern("country_tn.national-id", r"(?<!\d)\d{8}(?!\d)")
