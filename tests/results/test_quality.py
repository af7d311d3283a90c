"""The one quality-play rule, and the note when stored rollups were built with another threshold."""

import numpy as np

from artdash.results.quality import quality_plays, threshold_note


def test_a_quality_play_is_a_play_of_at_least_the_threshold():
    played = np.array([1, 1, 1, 0, 0])
    seconds = np.array([299.9, 300.0, 5400, 600, 0])
    assert quality_plays(played, seconds, 300.0).tolist() == [False, True, True, False, False]
    # a threshold per row (each import's own)
    assert quality_plays(played, seconds, np.array([200, 400, 300, 0, 0])).tolist() == [True, False, True, False,
                                                                                       False]


def test_the_note_names_both_thresholds_and_the_command():
    assert threshold_note((None, None), 300) is None
    assert threshold_note((300.0, 300.0), 300) is None
    note = threshold_note((300.0, 300.0), 600)
    assert "counted at 300 s, the setting says 600 s" in note and "artdash results rebuild" in note
    mixed = threshold_note((300.0, 600.0), 600)
    assert "300 s to 600 s" in mixed and "rebuild" in mixed
