"""Demo content: enough titles and variants, tagged, deterministic, visibly different."""

import io

from PIL import Image

from artdash import catalog
from artdash.demo import DEMO_TITLES, STYLES, load_demo, render_variant
from artdash.media.images import compute_features


def test_demo_catalog_has_tagged_titles_across_genres(sqlite_ws):
    assert load_demo(sqlite_ws) == len(DEMO_TITLES) >= 12
    with sqlite_ws.session() as s:
        titles = catalog.list_titles(s)
        assert len(titles) >= 12
        assert len({g for t in titles for g in t.genres}) >= 10
        for t in titles:
            variants = catalog.list_variants(s, t.id)
            assert 3 <= len(variants) <= 6, t.name
            assert all(v.tags for v in variants), t.name
            assert any(v.status == "active" for v in variants)
            assert all(v.warnings == () for v in variants), [v.warnings for v in variants]
        counts = catalog.catalog_counts(s)
    assert counts["draft"] > 0 and counts["retired"] > 0
    assert load_demo(sqlite_ws) == 0  # titles already there are skipped


def test_demo_images_are_deterministic():
    assert render_variant("Harbour Lights", "romance", False, 7) == render_variant("Harbour Lights", "romance", False, 7)


def test_demo_styles_differ_in_tone():
    def features(style):
        return compute_features(Image.open(io.BytesIO(render_variant("T", style, False, 1))))

    romance, thriller, comedy = features("romance"), features("thriller"), features("comedy")
    assert thriller.brightness < 0.2 < 0.5 < comedy.brightness
    assert romance.warmth > 0.2 and romance.warmth > thriller.warmth
    assert len(STYLES) >= 8


def test_demo_images_carry_the_title_name_area():
    im = Image.open(io.BytesIO(render_variant("Night Ledger", "comedy", False, 3))).convert("L")
    # The caption band is black with white letters: both extremes appear in the lower part.
    band = im.crop((0, int(im.height * 0.75), im.width, int(im.height * 0.95)))
    low, high = band.getextrema()
    assert low < 20 and high > 235
