"""Preview on the demo catalog: the bandit visibly personalises for each archetype."""

import numpy as np
import pytest

from artdash import catalog, preview
from artdash.catalog import personas
from artdash.decision.catalog import load_preview_catalog
from artdash.demo import load_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path_factory.mktemp("preview"))}))
    load_demo(ws)
    with ws.session() as s:
        items = load_preview_catalog(s)
        people = {p.name: p for p in personas.list_personas(s)}
        policy_set = preview.build_policies(s, items, list(people.values()))
    yield ws, items, people, policy_set
    ws.close()


def most_likely(policy, persona, title):
    cands = sorted(title.candidates, key=lambda c: c.variant_id)
    return cands[int(np.argmax(policy.probabilities(preview.context_for(persona), cands)))]


def tag_names(ws, variant_id):
    with ws.session() as s:
        return {t.label for t in catalog.get_variant(s, variant_id).tags}


def test_romance_fans_get_the_couple_and_comedy_fans_the_comedian(demo):
    ws, items, people, policy_set = demo
    bandit = policy_set.policies["linucb"]
    both = [t for t in items if {"romance", "comedy"} & set(t.genres) and len(t.candidates) > 2]
    assert len(both) >= 4
    for title in both:
        romantic = [c for c in title.candidates if "tone: romantic" in tag_names(ws, c.variant_id)]
        funny = [c for c in title.candidates if "tone: funny" in tag_names(ws, c.variant_id)]
        if romantic:
            assert "tone: romantic" in tag_names(ws, most_likely(bandit, people["Romance lover"], title).variant_id)
        if funny:
            assert "tone: funny" in tag_names(ws, most_likely(bandit, people["Comedy fan"], title).variant_id)


def test_archetypes_see_different_homepages(demo):
    _, items, people, policy_set = demo
    bandit = policy_set.policies["linucb"]
    pictures = {}
    for name in ("Romance lover", "Comedy fan", "Thriller & crime buff", "Family & kids"):
        rows, skipped = preview.homepage_rows(bandit, preview.context_for(people[name]), items)
        assert rows[0][0] == "Top picks for this persona"
        pictures[name] = {t.title.id: t.decision.variant_id for _, tiles in rows for t in tiles}
    assert pictures["Romance lover"] != pictures["Comedy fan"] != pictures["Thriller & crime buff"]


def test_titles_without_active_art_are_skipped_and_listed(demo):
    ws, items, people, policy_set = demo
    with ws.transaction() as s:
        empty = catalog.create_title(s, name="No Art Yet", actor="t")
    with ws.session() as s:
        fresh = load_preview_catalog(s)
    rows, skipped = preview.homepage_rows(policy_set.policies["uniform"],
                                          preview.context_for(people["Comedy fan"]), fresh)
    assert [t.id for t in skipped] == [empty.id]
    assert empty.id not in {t.title.id for _, tiles in rows for t in tiles}


def test_win_matrix_lists_unloved_variants_and_weak_personas(demo):
    _, items, people, policy_set = demo
    bandit = policy_set.policies["linucb"]
    title = next(t for t in items if t.name == "Harbour Lights")
    matrix = preview.win_matrix(bandit, list(people.values()), title)
    variant_columns = [c for c in matrix.columns if c.startswith("#")]
    assert len(matrix) == len(people) and len(variant_columns) == len(title.candidates)
    assert np.allclose(matrix[variant_columns].sum(axis=1), 1.0)
    unloved = preview.unloved_variants(matrix, title)
    assert set(unloved) | set(matrix["wins"]) == set(variant_columns)
    assert all(isinstance(p, str) for p in preview.weakly_served(matrix, threshold=1.0))
    assert preview.weakly_served(matrix, threshold=0.0) == []


def test_editors_pick_policy_follows_the_pick(demo):
    ws, items, people, _ = demo
    title = next(t for t in items if t.name == "Night Ledger")
    chosen = sorted(c.variant_id for c in title.candidates)[-1]
    with ws.transaction() as s:
        catalog.set_editors_pick(s, title.id, chosen, "ed")
        policies = preview.build_policies(s, items, list(people.values()), n_impressions=0).policies
    decision = policies["editors-pick"].decide(preview.context_for(people["Comedy fan"]), title.candidates)
    assert decision.variant_id == chosen and decision.explanation == "the editor's pick"
    with ws.session() as s:
        assert "not trained" in preview.build_policies(s, items, [], n_impressions=0).training_note
