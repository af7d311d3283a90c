"""`artdash discover` and `artdash annotate` on a real clip, SQLite file and media folder."""

import pytest
from footage import scene_clip


@pytest.fixture
def clip(tmp_path):
    return scene_clip(tmp_path / "trailer.mp4", names=("astronaut_top", "coffee", "rocket"), seconds=[3.0, 2.0, 2.0])


def test_discover_lists_ranked_candidates_and_adds_the_chosen_ones(run, clip, tmp_path):
    assert run("title", "add", "Orbit").exit_code == 0
    listed = run("discover", "Orbit", str(clip.path), "--top", "5")
    assert listed.exit_code == 0, listed.output
    assert "640×360 H264" in listed.output and "3 shots" in listed.output
    assert "shot kind" in listed.output and "no face found" in listed.output
    added = run("discover", "Orbit", str(clip.path), "--add", "1,2", "--ratio", "2:3", "--keep-video")
    assert added.exit_code == 0, added.output
    assert added.output.count("draft variant #") == 2 and "crops #" in added.output
    assert len(list((tmp_path / "data" / "videos").rglob("*.mp4"))) == 1
    again = run("discover", "Orbit", str(clip.path), "--add", "1")
    assert again.exit_code == 1 and "already in the catalog" in again.output
    assert "annotated 4 variants" in run("annotate", "--title", "Orbit").output


def test_discover_refuses_what_it_cannot_use_in_one_line(run, clip, tmp_path):
    run("title", "add", "Orbit")
    not_video = tmp_path / "poster.mp4"
    not_video.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    result = run("discover", "Orbit", str(not_video))
    assert result.exit_code == 2 and "PNG image, not a video" in result.output
    bad_rank = run("discover", "Orbit", str(clip.path), "--add", "9")
    assert bad_rank.exit_code == 2 and "ranks go from 1 to 3" in bad_rank.output
    assert "Traceback" not in result.output + bad_rank.output
    assert "--keep-video" in run("discover", "--help").output
