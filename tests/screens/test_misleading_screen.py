"""The gallery and Preview warn when art contradicts its title's genre (AppTest)."""

import artimages
from apptest import assert_clean, open_page, shown

from artdash import catalog
from artdash.catalog.taxonomy import find_tag


def horror_with_uplifting_art(ws):
    with ws.transaction() as s:
        title = catalog.create_title(s, name="The Cellar", genres=["horror"], actor="local-admin")
    (result,) = catalog.upload_files(ws.sessions, ws.store, title.id, [("sunny.jpg", artimages.jpeg(seed=40))],
                                     "local-admin").results
    with ws.transaction() as s:
        uplifting = find_tag(s, "tone", "uplifting").id
        catalog.set_variant_tags(s, result.variant_id, [uplifting], "local-admin")
        catalog.set_variant_status(s, result.variant_id, "active", "local-admin")
    return title.id, result.variant_id


def test_the_gallery_and_preview_warn_when_such_art_is_shown_or_served(demo_ws):
    title_id, variant_id = horror_with_uplifting_art(demo_ws)
    at = open_page("title", title=str(title_id))
    assert_clean(at)
    assert any("tagged 'uplifting' but the title is horror" in shown(c.value) for c in at.caption)
    at = open_page("preview")
    assert_clean(at)
    assert any("Served although the image is tagged 'uplifting' but the title is horror" in shown(c.value)
               for c in at.caption)
