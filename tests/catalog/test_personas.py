"""Personas on SQLite and PostgreSQL: archetypes, validation, edits, tag merges."""

import pytest

from artdash.catalog import personas, taxonomy
from artdash.errors import ConflictError, DuplicateError, ValidationError

ED = "pm-pat"


def tag(ws, facet, name):
    with ws.session() as s:
        return taxonomy.find_tag(s, facet, name).id


def test_eight_archetypes_ship_with_tastes(ws):
    with ws.session() as s:
        people = personas.list_personas(s)
    names = [p.name for p in people]
    assert len(people) >= 8
    for expected in ("Romance lover", "Comedy fan", "Action junkie", "Thriller & crime buff", "Family & kids",
                     "Horror hound", "Documentary devotee", "Sci-fi & fantasy fan"):
        assert expected in names
    romance = next(p for p in people if p.name == "Romance lover")
    weights = {f"{t.facet}: {t.name}": w for t, w in romance.affinities}
    assert weights["genre: romance"] == 1.0 and weights["genre: horror"] < 0
    assert all(p.country and p.device for p in people)
    with ws.transaction() as s:
        assert personas.load_archetypes(s, ED) == 0  # idempotent


def test_create_and_edit_a_persona_with_version_check(ws):
    noir = tag(ws, "tone", "dark")
    with ws.transaction() as s:
        p = personas.create_persona(s, name="  Night  owl ", country="fr", device="mobile", actor=ED,
                                    affinities={noir: 0.7})
    assert (p.name, p.country, p.device) == ("Night owl", "FR", "mobile")
    assert p.weight_by_tag_id() == {noir: 0.7}
    with ws.transaction() as s:
        edited = personas.update_persona(s, p.id, actor=ED, expected_version=p.version, name="Night owl",
                                         description="Watches after midnight", country="", device="tv",
                                         affinities={noir: 0.9, tag(ws, "genre", "horror"): 0.0})
    assert edited.weight_by_tag_id() == {noir: 0.9}  # zero weights are not stored
    with pytest.raises(ConflictError):
        with ws.transaction() as s:
            personas.update_persona(s, p.id, actor=ED, expected_version=p.version, name="Stale", description="",
                                    country="", device="tv", affinities={})


@pytest.mark.parametrize("fields, words", [
    ({"name": " "}, "needs a name"),
    ({"name": "X", "country": "France"}, "two-letter"),
    ({"name": "X", "device": "fridge"}, "device"),
    ({"name": "X", "affinities": {"TAG": 2.0}}, "outside -1"),
    ({"name": "X", "affinities": {"TAG": "lots"}}, "not a number"),
    ({"name": "X", "affinities": {"TAG": float("nan")}}, "outside -1"),
])
def test_bad_persona_fields_are_refused(ws, fields, words):
    if "affinities" in fields:
        fields = {**fields, "affinities": {tag(ws, "tone", "dark"): v for v in fields["affinities"].values()}}
    with ws.session() as s:
        before = len(personas.list_personas(s))
    with pytest.raises(ValidationError, match=words):
        with ws.transaction() as s:
            personas.create_persona(s, actor=ED, **fields)
    with ws.session() as s:
        assert len(personas.list_personas(s)) == before


def test_duplicate_persona_name(ws):
    with pytest.raises(DuplicateError):
        with ws.transaction() as s:
            personas.create_persona(s, name="romance LOVER", actor=ED)


def test_merging_tags_moves_affinities(ws):
    with ws.transaction() as s:
        gloomy = taxonomy.add_tag(s, "tone", "gloomy", ED)
        p = personas.create_persona(s, name="Goth", actor=ED, affinities={gloomy.id: 0.8})
        dark = taxonomy.find_tag(s, "tone", "dark")
        taxonomy.merge_tags(s, gloomy.id, dark.id, ED)
    with ws.session() as s:
        assert personas.get_persona(s, p.id).weight_by_tag_id() == {dark.id: 0.8}
