"""The fields an editor sets where, when and to whom artwork may be shown (one variant in the
gallery's editor, many in Bulk changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import streamlit as st

from artdash.catalog.eligibility import MATURITY, Eligibility

RULES = {"territories": "Territories", "languages": "Languages", "window": "Availability window",
         "maturity": "Maturity rating", "approval": "Approval"}


def _moment(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0, 0), tzinfo=UTC) if day else None


def rule_inputs(key: str, current: Eligibility) -> dict:
    """The inputs, filled with ``current``; returns what they say as ``set_eligibility`` arguments."""
    territories = st.text_input("Territories", value=", ".join(current.territories), placeholder="every country",
                                key=f"{key}-territories",
                                help="Two-letter country codes, comma-separated (FR, BE). Empty: every country.")
    languages = st.text_input("Languages", value=", ".join(current.languages), placeholder="every language",
                              key=f"{key}-languages",
                              help="Language tags, comma-separated (fr, pt-BR): for localised title treatments. "
                                   "Empty: every language (a localisation: its own locale's language).")
    start = st.date_input("Available from (UTC)", value=current.available_from.date() if current.available_from
                            else None, key=f"{key}-from", format="YYYY-MM-DD", help="Empty: from now on.")
    end = st.date_input("Available until (UTC)", value=current.available_until.date() if current.available_until
                           else None, key=f"{key}-until", format="YYYY-MM-DD",
                           help="Not shown from this day on (a takedown). Empty: no end.")
    maturity = st.selectbox("Maturity rating", MATURITY, index=MATURITY.index(current.maturity), key=f"{key}-maturity",
                            help="Shown only to members whose limit is at least this (members without a limit see all).")
    approved = st.checkbox("Approved to be shown", value=current.approved, key=f"{key}-approved",
                           help="Untick to hold it back (e.g. awaiting sign-off): on hold, it is never shown.")
    return {"territories": territories, "languages": languages, "available_from": _moment(start),
            "available_until": _moment(end), "maturity": maturity, "approved": approved}


def chosen(values: dict, rules: list[str]) -> dict:
    """Only the arguments of the rules an editor chose to change (Bulk changes)."""
    keep = {"territories": ("territories",), "languages": ("languages",),
            "window": ("available_from", "available_until"), "maturity": ("maturity",), "approval": ("approved",)}
    return {name: values[name] for rule in rules for name in keep[rule]}
