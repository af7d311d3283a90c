"""Artwork whose tags contradict its title's genre is called out (pure rules, then the pages)."""

from artdash.catalog.misleading import misleading


def test_a_tone_that_contradicts_the_genre_is_named():
    (warning,) = misleading(["Horror"], ["tone: uplifting", "visual: dark"])
    assert "'uplifting'" in warning and "horror" in warning
    assert misleading(["comedy"], ["tone: funny", "visual: bright"]) == ()
    assert misleading([], ["tone: uplifting"]) == ()
    assert len(misleading(["horror", "comedy"], ["tone: funny", "tone: scary"])) == 2
