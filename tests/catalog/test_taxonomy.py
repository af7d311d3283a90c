"""The tag vocabulary: normalisation, add, rename, merge — on SQLite and PostgreSQL."""

import artimages
import pytest

from artdash import catalog
from artdash.catalog import taxonomy
from artdash.errors import ConflictError, DuplicateError, NotFoundError, ValidationError

ED = "editor-ann"


def test_default_taxonomy_is_seeded_once(ws):
    with ws.session() as s:
        facets = {f.name: f for f in taxonomy.list_facets(s)}
    assert list(facets) == ["genre", "theme", "tone", "cast", "visual"]
    assert {"romance", "comedy", "thriller"} <= {t.name for t in facets["genre"].tags}
    with ws.transaction() as s:
        assert taxonomy.load_default_taxonomy(s) == 0  # idempotent


@pytest.mark.parametrize("raw, display", [("Noir", "Noir"), ("  slow   burn ", "slow burn"), ("été", "été")])
def test_names_are_normalised(raw, display):
    assert taxonomy.normalise_tag_name(raw) == (display, display.casefold())


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", None])
def test_empty_or_whitespace_tag_is_refused(ws, raw):
    with pytest.raises(ValidationError, match="needs a name"):
        with ws.transaction() as s:
            taxonomy.add_tag(s, "tone", raw, ED)


def test_two_tags_differing_only_in_case_are_one(ws):
    with ws.transaction() as s:
        taxonomy.add_tag(s, "tone", "Slow Burn", ED)
    with pytest.raises(DuplicateError, match="already has the tag 'slow  burn'|already has the tag 'slow burn' as 'Slow Burn'"):
        with ws.transaction() as s:
            taxonomy.add_tag(s, "tone", "slow  burn", ED)
    with ws.session() as s:
        assert taxonomy.find_tag(s, "tone", "SLOW BURN").name == "Slow Burn"
        assert [t.name for t in taxonomy.list_tags(s, "tone")].count("Slow Burn") == 1


def test_unknown_facet_lists_the_real_ones(ws):
    with pytest.raises(NotFoundError, match="genre, theme, tone, cast, visual"):
        with ws.transaction() as s:
            taxonomy.add_tag(s, "mood", "calm", ED)


def test_rename_refuses_a_clash_and_a_stale_version(ws):
    with ws.transaction() as s:
        noir = taxonomy.add_tag(s, "tone", "noir", ED)
        renamed = taxonomy.rename_tag(s, noir.id, "Neo-Noir", ED, expected_version=noir.version)
    assert renamed.name == "Neo-Noir"
    with pytest.raises(DuplicateError, match="merge"):
        with ws.transaction() as s:
            taxonomy.rename_tag(s, noir.id, "DARK", ED)
    with pytest.raises(ConflictError):
        with ws.transaction() as s:
            taxonomy.rename_tag(s, noir.id, "noir again", ED, expected_version=noir.version)


def test_merge_moves_every_use_and_removes_the_source(ws):
    with ws.transaction() as s:
        gloomy = taxonomy.add_tag(s, "tone", "gloomy", ED)
        dark = taxonomy.find_tag(s, "tone", "dark")
        title = catalog.create_title(s, name="Night Ledger", actor=ED, tag_ids=[gloomy.id, dark.id])
        other = catalog.create_title(s, name="Other", actor=ED, tag_ids=[gloomy.id])
    report = catalog.upload_files(ws.sessions, ws.store, title.id, [("a.jpg", artimages.jpeg(seed=1))], ED)
    variant_id = report.results[0].variant_id
    with ws.transaction() as s:
        catalog.set_variant_tags(s, variant_id, [gloomy.id], ED)
        merged = taxonomy.merge_tags(s, gloomy.id, dark.id, ED)
    assert merged.name == "dark"
    with ws.session() as s:
        assert taxonomy.find_tag(s, "tone", "gloomy") is None
        assert [t.name for t in catalog.get_title(s, title.id).tags] == ["dark"]  # no duplicate link
        assert [t.name for t in catalog.get_title(s, other.id).tags] == ["dark"]
        assert [t.name for t in catalog.get_variant(s, variant_id).tags] == ["dark"]
        usage = {t.name: (t.n_titles, t.n_variants) for f in taxonomy.list_facets(s) for t in f.tags if f.name == "tone"}
    assert usage["dark"] == (2, 1)


def test_merge_across_facets_is_refused(ws):
    with ws.session() as s:
        dark_tone, dark_visual = taxonomy.find_tag(s, "tone", "dark"), taxonomy.find_tag(s, "visual", "dark")
    with pytest.raises(ValidationError, match="within one facet"):
        with ws.transaction() as s:
            taxonomy.merge_tags(s, dark_tone.id, dark_visual.id, ED)


def test_add_facet(ws):
    with ws.transaction() as s:
        facet = taxonomy.add_facet(s, "Mood", "How it feels", ED)
        taxonomy.add_tag(s, "mood", "calm", ED)
    assert facet.name == "mood"
    with pytest.raises(DuplicateError):
        with ws.transaction() as s:
            taxonomy.add_facet(s, "MOOD", "", ED)
