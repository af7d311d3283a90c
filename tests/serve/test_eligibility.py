"""What may be shown is a hard filter: territories, languages, the availability window,
maturity and approval are checked at decision time — 10⁶ simulated decisions, none of them
of a variant the member may not be shown — and the same rules hold in Preview and the lab."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from artdash.catalog.eligibility import MATURITY, language_matches, set_eligibility
from artdash.db.models import Variant
from artdash.decision.decide import Member, decide
from artdash.errors import ValidationError
from artdash.serve import DecisionService, LocalClient, ServiceError, ServiceSettings


def by_title(ws):
    with ws.session() as s:
        out: dict[int, list[int]] = {}
        for v in s.scalars(select(Variant).where(Variant.status == "active").order_by(Variant.id)):
            out.setdefault(v.title_id, []).append(v.id)
    return out


@pytest.fixture
def limited(catalog_ws, frozen_clock):
    """Every kind of limit on the demo artwork; returns the titles' variant ids."""
    titles = by_title(catalog_ws)
    (a, b, c) = sorted(titles)[:3]
    now = frozen_clock
    with catalog_ws.transaction() as s:
        set_eligibility(s, [titles[a][0]], "local-admin", territories="FR, be")
        set_eligibility(s, [titles[a][1]], "local-admin", languages="fr")
        set_eligibility(s, [titles[a][2]], "local-admin", available_from=now + timedelta(days=1))
        set_eligibility(s, [titles[b][0]], "local-admin", approved=False)
        set_eligibility(s, [titles[b][1]], "local-admin", available_until=now - timedelta(hours=1))
        set_eligibility(s, [titles[b][2]], "local-admin", maturity="16+")
        set_eligibility(s, titles[c], "local-admin", territories=["US"])          # the whole title: US only
    return titles


def allowed_by_hand(v: Variant, country: str, locale: str, maturity: str, when) -> bool:
    """The rules, written out once more, independently of artdash.catalog.eligibility."""
    from datetime import UTC

    def utc(d):
        return d.replace(tzinfo=UTC) if d.tzinfo is None else d

    if not v.approved:
        return False
    if v.available_from is not None and when < utc(v.available_from):
        return False
    if v.available_until is not None and when >= utc(v.available_until):
        return False
    if v.territories and country not in v.territories:
        return False
    if v.languages and not any(locale == lang or locale.startswith(lang + "-") for lang in v.languages):
        return False
    return not maturity or MATURITY.index(v.maturity) <= MATURITY.index(maturity)


def test_a_million_simulated_decisions_show_nothing_a_member_may_not_see(tmp_path, frozen_clock):
    from workspaces import copy_demo, make_settings

    from artdash.workspace import Workspace

    copy_demo(tmp_path / "data")          # 14 titles: rows of 14 per request
    ws = Workspace.open(make_settings(tmp_path))
    titles = by_title(ws)
    ids = [v for vs in titles.values() for v in vs]
    rng = np.random.default_rng(5)
    with ws.transaction() as s:          # one title for the US only (elsewhere: nothing to show) …
        set_eligibility(s, titles[sorted(titles)[-1]], "local-admin", territories="US")
    with ws.transaction() as s:          # … and random limits on half the artwork
        for vid in rng.choice(ids, len(ids) // 2, replace=False).tolist():
            set_eligibility(s, [vid], "local-admin",
                            territories=list(rng.choice(["FR", "BE", "US", "DE"], int(rng.integers(0, 3)), replace=False)),
                            languages=list(rng.choice(["fr", "en", "de-DE"], int(rng.integers(0, 2)), replace=False)),
                            available_from=frozen_clock + timedelta(hours=int(rng.integers(-48, 48))) if rng.random() < 0.3 else None,
                            available_until=frozen_clock + timedelta(hours=int(rng.integers(49, 96))) if rng.random() < 0.3 else None,
                            maturity=str(rng.choice(MATURITY)), approved=bool(rng.random() < 0.9))
    with ws.session() as s:
        rows = {v.id: v for v in s.scalars(select(Variant))}
    service = DecisionService(ws, ServiceSettings(require_keys=False), background=False)
    try:
        snapshot, served = service.snapshot, service.served
        title_ids = sorted(titles)
        countries, locales = ["FR", "BE", "US", "DE", ""], ["fr-FR", "fr", "en-US", "de-DE", "de-AT", ""]
        maturities = ["", *MATURITY]
        n = shown = nothing = 0
        requests = -(-1_000_000 // len(title_ids))
        country = rng.choice(countries, requests)
        locale = rng.choice(locales, requests)
        maturity = rng.choice(maturities, requests)
        hours = rng.uniform(-72, 120, requests)
        for r in range(requests):
            member = Member(f"m{r % 5000}", {}, str(country[r]), "tv", str(locale[r]), str(maturity[r]))
            when = frozen_clock + timedelta(hours=float(hours[r]))
            decided = decide(snapshot, served, member, title_ids, when)
            for d in decided.decisions:
                n += 1
                if d.variant_id is None:
                    nothing += 1
                    assert not any(allowed_by_hand(rows[v], member.country, member.locale, member.maturity, when)
                                   for v in titles[d.title_id])
                    continue
                shown += 1
                assert allowed_by_hand(rows[d.variant_id], member.country, member.locale, member.maturity, when), d
                assert 0 < d.propensity <= 1
        assert n >= 1_000_000 and shown > 500_000 and nothing > 10_000     # both sides exercised
    finally:
        service.close()
        ws.close()


def test_each_limit_is_applied_and_named(catalog_ws, limited, frozen_clock):
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False), background=False)
    client = LocalClient(service)
    a, b, c = sorted(limited)[:3]
    try:
        def shown(member, title, n=300):
            return {d["variant_id"] for i in range(n)
                    for d in client.decide(member | {"id": f"{member.get('id', 'm')}-{i}"}, [title])["decisions"]}

        assert shown({"country": "FR", "locale": "fr-FR"}, a) == set(limited[a][:2]) | set(limited[a][3:])
        assert shown({"country": "US", "locale": "en-US"}, a) == set(limited[a][3:])
        assert shown({"country": "BE", "locale": "nl-BE"}, a) == {limited[a][0], *limited[a][3:]}
        assert shown({"maturity": "13+"}, b) == set(limited[b][3:])
        assert shown({"maturity": "18+"}, b) == set(limited[b][2:])
        refused = client.decide({"id": "x", "country": "FR"}, [c])["decisions"][0]
        assert refused["variant_id"] is None and refused["reason"] == "nothing may be shown: not shown in FR"
        assert shown({"country": "US"}, c) == set(limited[c])
        with pytest.raises(ServiceError, match="member.maturity: one of all, 7\\+"):
            client.decide({"id": "x", "maturity": "PG-13"}, [a])
    finally:
        service.close()


def test_a_window_that_ends_is_a_takedown_at_once(catalog_ws, frozen_clock):
    from artdash import clock

    titles = by_title(catalog_ws)
    title = sorted(titles)[0]
    with catalog_ws.transaction() as s:
        set_eligibility(s, titles[title], "local-admin", available_until=frozen_clock + timedelta(minutes=5))
    service = DecisionService(catalog_ws, ServiceSettings(require_keys=False), background=False)
    try:
        assert service.decide({"member": {"id": "m"}, "titles": [title]})["decisions"][0]["variant_id"] is not None
        clock.freeze(frozen_clock + timedelta(minutes=5))
        gone = service.decide({"member": {"id": "m"}, "titles": [title]})["decisions"][0]
        assert gone["variant_id"] is None and "not available since" in gone["reason"]
    finally:
        service.close()


def test_preview_and_the_lab_apply_the_same_limits(catalog_ws, limited):
    from artdash.catalog.personas import list_personas
    from artdash.decision.catalog import load_preview_catalog
    from artdash.lab import load_world
    from artdash.policy import UniformPolicy
    from artdash.policy.context import context_for
    from artdash.preview import homepage_rows, win_matrix

    a, b, c = sorted(limited)[:3]
    with catalog_ws.session() as s:
        catalog = {t.id: t for t in load_preview_catalog(s)}
        personas = list_personas(s)
        world = load_world(s)
    lab = {int(t): set(row[:n].tolist()) for t, row, n in zip(world.title_ids, world.variant_ids, world.n_actions)}
    assert lab[a] == set(limited[a][3:]) and lab[b] == set(limited[b][2:]) and c not in lab
    fan = next(p for p in personas if not p.is_blank)
    rows, skipped = homepage_rows(UniformPolicy(), context_for(fan), list(catalog.values()))
    assert c in {t.id for t in skipped} if fan.country != "US" else True
    matrix = win_matrix(UniformPolicy(), [fan], catalog[b])
    on_hold = [col for col in matrix.columns if col.startswith(f"#{limited[b][0]} ")]
    assert matrix[on_hold[0]].tolist() == [0.0]


@pytest.mark.parametrize("kwargs, message", [
    ({"territories": "France"}, "two-letter country codes"),
    ({"languages": "français"}, "language tags"),
    ({"maturity": "PG"}, "must be one of all"),
    ({"available_from": "tomorrow"}, "must be a date and time"),
])
def test_bad_limits_are_refused_and_nothing_changes(catalog_ws, kwargs, message):
    titles = by_title(catalog_ws)
    ids = titles[sorted(titles)[0]]
    with catalog_ws.transaction() as s, pytest.raises(ValidationError, match=message):
        set_eligibility(s, ids, "local-admin", **kwargs)
    with catalog_ws.session() as s:
        assert all(v.territories == [] and v.approved for v in s.scalars(select(Variant).where(Variant.id.in_(ids))))


def test_a_window_must_end_after_it_starts_for_every_variant_or_none_change(catalog_ws, frozen_clock):
    titles = by_title(catalog_ws)
    first, second = titles[sorted(titles)[0]][:2]
    with catalog_ws.transaction() as s:
        set_eligibility(s, [second], "local-admin", available_from=frozen_clock + timedelta(days=10))
    with catalog_ws.transaction() as s, pytest.raises(ValidationError, match=f"variant #{second}: the window"):
        set_eligibility(s, [first, second], "local-admin", available_until=frozen_clock + timedelta(days=5))
    with catalog_ws.session() as s:
        assert s.get(Variant, first).available_until is None


def test_language_tags_match_by_prefix():
    assert language_matches(["fr"], "fr-CA") and language_matches(["fr-CA"], "fr-ca")
    assert not language_matches(["fr-CA"], "fr-FR") and not language_matches(["fr"], "") and not language_matches(["fr"], "fry")


def test_the_rule_table_answers_as_each_rule_does(frozen_clock):
    """The arrays a request is checked against say exactly what each variant's own rule says,
    for random rules, members and moments (edges of the availability window included)."""
    from artdash.catalog.eligibility import Eligibility
    from artdash.catalog.eligibility_table import RuleTable

    rng = np.random.default_rng(3)
    edges = [frozen_clock + timedelta(hours=h) for h in (-5, 0, 5)]
    rules = {}
    for vid in range(1, 400):
        start = edges[int(rng.integers(3))] if rng.random() < 0.4 else None
        rules[vid * 3] = Eligibility(
            tuple(sorted(rng.choice(["FR", "BE", "US", "DE"], int(rng.integers(0, 3)), replace=False))),
            tuple(rng.choice(["fr", "en", "de-DE", "pt-BR"], int(rng.integers(0, 3)), replace=False)),
            start, start + timedelta(hours=int(rng.integers(0, 8))) if start is not None and rng.random() < 0.5 else None,
            str(rng.choice(MATURITY)), bool(rng.random() < 0.85))
    table = RuleTable.of(rules)
    ids = np.array(list(rules))
    assert (table.variant_ids[table.positions(ids)] == ids).all()
    for _ in range(300):
        country = str(rng.choice(["FR", "fr", "BE", "US", "DE", "", "JP"]))
        locale = str(rng.choice(["fr-FR", "fr", "en-US", "de-DE", "de-AT", "pt-br", "", "FR_ca"]))
        maturity = str(rng.choice(["", *MATURITY]))
        when = edges[int(rng.integers(3))] + timedelta(microseconds=int(rng.choice([-1, 0, 1])))
        allowed = table.allowed(country, locale, maturity, when)[table.positions(ids)]
        expected = np.array([not rules[int(v)].refusal(country, locale, maturity, when) for v in ids])
        assert (allowed == expected).all(), (country, locale, maturity, when)
        some = rng.choice(ids, 40)                        # a request's row: only its own variants checked
        assert (table.allowed(country, locale, maturity, when, table.positions(some))
                == [not rules[int(v)].refusal(country, locale, maturity, when) for v in some]).all()
