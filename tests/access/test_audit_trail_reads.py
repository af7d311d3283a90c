"""The audit trail says what happened, without noise (real database, SQLite and PostgreSQL)."""

import artimages

from artdash import catalog
from artdash.access import audit
from artdash.catalog.taxonomy import find_tag
from artdash.lab import store as lab_store

ED = "local-admin"


def test_bulk_tagging_records_the_tags_not_a_bare_timestamp_change_of_each_variant(ws):
    """Each variant got an entry whose only change was updated_at."""
    with ws.transaction() as s:
        title = catalog.create_title(s, name="Noise", actor=ED)
    report = catalog.upload_files(ws.sessions, ws.store, title.id, [("a.jpg", artimages.jpeg(seed=1)),
                                                                   ("b.jpg", artimages.jpeg(seed=2))], ED)
    ids = [r.variant_id for r in report.results]
    with ws.session() as s:
        tag = find_tag(s, "tone", "dark").id
        before = len(audit.entries(s))
    with ws.transaction() as s:
        catalog.bulk_tag(s, ids, ED, add=[tag])
    with ws.session() as s:
        new = audit.entries(s).head(len(audit.entries(s)) - before)
    assert sorted(new["entity"]) == ["variant_tags", "variant_tags"]
    assert {e["tag_id"] for e in new["after"]} == {tag}


def test_a_demotion_is_named_a_demotion(ws):
    """It was listed as the "create" of a promotion."""
    with ws.transaction() as s:
        lab_store.promote(s, "linucb", ED, note="wins offline")
    with ws.transaction() as s:
        lab_store.demote(s, ED, note="back to the default")
    with ws.session() as s:
        trail = audit.entries(s, entity="policy_promotions")
    assert list(trail["action"]) == ["demote", "promote"]
    assert audit.summarize("demote", None, trail.iloc[0]["after"]).startswith("policy linucb")


def test_the_trail_is_searched_in_people_entities_and_values(ws):
    with ws.transaction() as s:
        catalog.create_title(s, name="Lantern Bay", actor=ED)
        catalog.create_title(s, name="Quiet Harbour", actor=ED)
    with ws.session() as s:
        trail = audit.entries(s)
    found = audit.search(trail, "lantern")
    assert len(found) == 1 and found.iloc[0]["after"]["name"] == "Lantern Bay"
    assert len(audit.search(trail, "titles")) >= 2 and audit.search(trail, "  ").equals(trail)
    assert audit.search(trail, "no such words").empty
