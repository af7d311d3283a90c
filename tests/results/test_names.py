"""Logs that name titles and images instead of numbering them (as exports usually do)."""

import pytest
from results.test_results import HEADER, QUALITY, VARIANTS, rows

from artdash.db.engine import make_engine
from artdash.db.results_migrate import upgrade_results
from artdash.results import queries
from artdash.results.ingest import IngestError, ingest
from artdash.results.log import open_log
from artdash.results.names import CatalogNames

NAMES = CatalogNames.build(
    [(1, "Harbour Lights"), (2, "Night Train"), (3, "Twins"), (4, "twins ")],
    [(11, 1, "Couple at dusk"), (12, 1, "Lighthouse"), (13, 1, "Lighthouse"), (21, 2, "Station"), (22, 2, "Couple at dusk")])


@pytest.fixture
def log(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'results.db'}")
    upgrade_results(eng)
    yield open_log(eng, tmp_path / "log")
    eng.dispose()


def load(log, text):
    return ingest(log, text.encode(), "log.csv", "t", VARIANTS, QUALITY, names=NAMES)


def totals(log):
    with log.engine.connect() as conn:
        frame = queries.variant_totals(conn, queries.Selection())
    return dict(zip(frame["variant_id"], frame["impressions"]))


def test_titles_by_name_and_images_by_label_count_as_their_ids(log):
    named = (rows(3, title="harbour  LIGHTS", variant="Couple at dusk")
             + rows(2, start=10, title="Night Train", variant=" couple at DUSK ")  # same label, other title
             + rows(1, start=20, title=2, variant=21))                           # ids still work
    report = load(log, HEADER + named)
    assert report.n_inserted == 6
    assert totals(log) == {11: 3, 22: 2, 21: 1}


def test_a_name_that_matches_nothing_or_several_is_refused_on_its_line(log):
    text = (HEADER + rows(1, title="Harbour Lights", variant="Couple at dusk")
            + rows(1, start=1, title="Harbor Lights", variant="Couple at dusk")     # line 3: misspelt
            + rows(1, start=2, title="Twins", variant=11)                            # line 4: two titles
            + rows(1, start=3, title="Harbour Lights", variant="Lighthouse")         # line 5: two images
            + rows(1, start=4, title="Harbour Lights", variant="Sunset"))            # line 6: no such image
    with pytest.raises(IngestError) as refused:
        load(log, text)
    problems = {i.line: (i.column, i.problem) for i in refused.value.issues}
    assert problems[3] == ("title_id", "unknown title name 'Harbor Lights' (not in the catalog); use the title's "
                                       "id or its exact name")
    assert problems[4][0] == "title_id" and "matches 2 titles (ids 3, 4); use the id" in problems[4][1]
    # the title as the catalog names it (the file named it; "title 1" said nothing to its author)
    assert problems[5][0] == "variant_id" and "matches 2 images of 'Harbour Lights' (#1) (ids 12, 13)" in problems[5][1]
    assert problems[6] == ("variant_id", "unknown image label 'Sunset' for 'Harbour Lights' (#1); use the variant's "
                                         "id or its exact label")
    assert 2 not in problems
    assert totals(log) == {}  # nothing imported


def test_without_the_catalog_names_a_name_is_not_an_id(log):
    with pytest.raises(IngestError, match="not a whole-number title id"):
        ingest(log, (HEADER + rows(1, title="Harbour Lights")).encode(), "log.csv", "t", VARIANTS, QUALITY)
