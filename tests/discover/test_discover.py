"""Candidate stills from real footage: a clip assembled from sample photographs with known cuts."""

from __future__ import annotations

import av
import numpy as np
import pytest
from artimages import jpeg
from footage import labelled_faces, photo, scene_clip

from artdash.config import VideoLimits
from artdash.discover import find_candidates
from artdash.errors import Cancelled, VideoRejected
from artdash.media.images.crops import crop_around, parse_ratio
from artdash.media.images.faces import detect_faces
from artdash.media.video import probe_video
from artdash.media.video.probe import sniff_container


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return scene_clip(tmp_path_factory.mktemp("footage") / "trailer.mp4")


@pytest.fixture(scope="module")
def sheet(clip):
    return find_candidates(clip.path, "trailer.mp4", top=40)


def test_every_cut_of_the_assembled_clip_is_found_and_no_other(clip, sheet):
    found = {round(s * clip.fps) for s in sheet.shot_starts[1:]}
    assert found == set(clip.cuts)
    assert sheet.frames_decoded == clip.n_frames and not sheet.warning


def test_each_shot_offers_a_candidate_ranked_best_first(clip, sheet):
    assert {c.shot for c in sheet.candidates} == set(range(len(clip.cuts) + 1))
    scores = [c.score for c in sheet.candidates]
    assert scores == sorted(scores, reverse=True)
    starts = (0, *clip.cuts, clip.n_frames)
    for c in sheet.candidates:  # a candidate lies inside its shot, clear of the cut
        assert starts[c.shot] < c.frame_index < starts[c.shot + 1]
        assert c.origin("trailer.mp4") == f"frame {c.timecode} of trailer.mp4"


def test_the_astronaut_shot_has_her_face_boxed_and_the_focal_point_on_it(sheet):
    astronaut = next(c for c in sheet.candidates if c.shot == 0)
    notes = astronaut.annotations
    assert len(notes.faces) == 1 and notes.cast_shot in ("close-up", "one person")
    face = notes.faces[0]
    assert face.x < notes.composition.focal_x < face.x + face.w
    assert notes.composition.source == "faces"
    assert ("close-up face" in dict(notes.suggested_tags())) == (notes.cast_shot == "close-up")
    # texture photographs have no faces and take their focal point from saliency
    texture = next(c for c in sheet.candidates if c.shot == 12)
    assert texture.annotations.cast_shot == "no face found" and texture.annotations.composition.source == "saliency"


def test_the_candidate_is_a_full_size_jpeg_of_that_frame(sheet):
    import io

    from PIL import Image

    c = sheet.candidates[0]
    im = Image.open(io.BytesIO(c.jpeg))
    assert im.format == "JPEG" and im.size == (c.width, c.height) == (640, 360)


def test_the_same_scene_twice_collapses_into_one_candidate(tmp_path):
    # the coffee shots are the same take (same pan, same length), as a recut scene would be
    clip = scene_clip(tmp_path / "repeat.mp4", names=("coffee", "rocket", "coffee", "camera"), seconds=[2.0] * 4)
    sheet = find_candidates(clip.path, "repeat.mp4")
    assert len(sheet.shot_starts) == 4
    assert sheet.collapsed == 1 and len(sheet.candidates) == 3
    assert sum(c.duplicates for c in sheet.candidates) == 1


def test_progress_reaches_the_end_and_cancel_stops_the_work(clip):
    seen = []
    find_candidates(clip.path, "trailer.mp4", top=3, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(Cancelled):
        find_candidates(clip.path, "trailer.mp4", cancelled=lambda: len(seen) > 0 and seen.append(0) is None)


def test_bytes_of_an_upload_work_as_well_as_a_path(clip):
    facts = probe_video(clip.path.read_bytes(), "trailer.mp4")
    assert (facts.width, facts.height, facts.codec, facts.container) == (640, 360, "h264", "MP4")
    assert facts.summary.startswith("640×360 H264, 00:")


# ------------------------------------------------------------------ hostile and odd files

def test_an_image_is_not_a_video_and_the_refusal_says_where_stills_go():
    with pytest.raises(VideoRejected, match="JPEG image, not a video: upload stills"):
        probe_video(jpeg(), "poster.mp4")


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    (b"RIFF\x00\x00\x00\x00AVI LIST", "AVI file; convert it to MP4"),
    (b"ID3\x03\x00" + b"\x00" * 100, "audio file"),
    (b"just some text, not a video at all" * 10, "MP4, MOV, MKV or WebM"),
])
def test_files_that_are_not_videos_are_refused_with_what_to_do(data, says):
    with pytest.raises(VideoRejected, match=says):
        probe_video(data, "x.mp4")


def test_too_long_too_large_and_too_big_frames_are_refused_before_decoding(clip):
    data = clip.path.read_bytes()
    with pytest.raises(VideoRejected, match="longer than the 00:10 limit.*ARTDASH_MAX_VIDEO_MINUTES"):
        probe_video(data, "t.mp4", VideoLimits(max_seconds=10))
    with pytest.raises(VideoRejected, match="over the 1 MB limit.*ARTDASH_MAX_VIDEO_MB"):
        probe_video(data, "t.mp4", VideoLimits(max_bytes=2**20))
    with pytest.raises(VideoRejected, match="640×360, larger than"):
        probe_video(data, "t.mp4", VideoLimits(max_pixels=320 * 180))


def test_a_truncated_mp4_is_refused_or_searched_up_to_the_break(clip, tmp_path):
    data = clip.path.read_bytes()
    # the index (moov) is at the end of an MP4 written in one pass: cut it off and nothing opens
    with pytest.raises(VideoRejected, match="damaged or truncated"):
        find_candidates(data[: len(data) // 2], "cut.mp4")


def test_a_truncated_matroska_yields_the_stills_before_the_break(clip, tmp_path):
    mkv = tmp_path / "t.mkv"
    with av.open(str(clip.path)) as src, av.open(str(mkv), "w") as out:
        stream_in = src.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        for packet in src.demux(stream_in):
            if packet.dts is None:
                continue
            packet.stream = stream_out
            out.mux(packet)
    data = mkv.read_bytes()
    assert sniff_container(data[:64]) == "Matroska/WebM"
    sheet = find_candidates(data[: int(len(data) * 0.6)], "cut.mkv")
    assert "truncated" in sheet.warning or "breaks off" in sheet.warning
    assert 0 < sheet.frames_decoded < clip.n_frames and sheet.candidates


def test_an_unknown_codec_is_refused_by_name(clip, tmp_path):
    mkv = tmp_path / "t.mkv"
    with av.open(str(clip.path)) as src, av.open(str(mkv), "w") as out:
        stream_out = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream_out
                out.mux(packet)
    data = mkv.read_bytes().replace(b"V_MPEG4/ISO/AVC", b"V_ARTDASH/NONE!")
    with pytest.raises(VideoRejected, match="codec .* cannot be decoded here"):
        probe_video(data, "odd.mkv")


# ------------------------------------------------------------------ faces and crops

def test_faces_are_found_on_labelled_photographs():
    faces, others = labelled_faces()
    recall = np.mean([len(detect_faces(a)) > 0 for a in faces])
    false_alarms = np.mean([len(detect_faces(a)) > 0 for a in others])
    assert recall >= 0.9 and false_alarms <= 0.05


def test_no_face_is_found_in_photographs_without_people():
    for name in ("coffee", "rocket", "hubble_deep_field", "brick"):
        assert detect_faces(np.asarray(photo(name))) == ()


@pytest.mark.parametrize("size, focal, ratio, box", [
    ((1280, 720), (0.5, 0.5), (2, 3), (400, 0, 880, 720)),
    ((1280, 720), (0.05, 0.5), (2, 3), (0, 0, 480, 720)),        # held inside the left edge
    ((1280, 720), (0.9, 0.2), (16, 9), (0, 0, 1280, 720)),       # already 16:9: the whole frame
    ((600, 900), (0.5, 0.1), (16, 9), (0, 0, 600, 338)),         # billboard from box art: the top
])
def test_crops_are_the_largest_of_their_ratio_around_the_focal_point(size, focal, ratio, box):
    crop = crop_around(*size, *focal, ratio)
    assert crop.as_tuple() == box
    w, h = crop.size
    assert abs(w / h - ratio[0] / ratio[1]) < 0.01


def test_a_ratio_is_width_colon_height():
    assert parse_ratio(" 4:5 ") == (4, 5)
    for bad in ("4/5", "0:3", "a:b", "16:9:1"):
        with pytest.raises(ValueError, match="width:height"):
            parse_ratio(bad)


def test_lettering_is_found_on_pages_of_text_and_not_on_photographs():
    from artdash.media.images.annotate import annotate_still

    for name in ("page", "text"):
        notes = annotate_still(np.asarray(photo(name)))
        assert "text-heavy" in dict(notes.suggested_tags()), (name, notes.text_share)
    for name in ("astronaut_top", "coffee", "rocket", "hubble_deep_field", "grass"):
        notes = annotate_still(np.asarray(photo(name)))
        assert "text-heavy" not in dict(notes.suggested_tags()), (name, notes.text_share)


def growing_video(clip, path, big=(9000, 9000), n_small=60, n_big=8):
    """A Matroska of MJPEG frames whose header (and first frames) say 640×360 and whose later
    frames are ``big`` — each JPEG carries its own size, as a crafted file would."""
    import io
    from fractions import Fraction

    from PIL import Image

    def encoded(picture: Image.Image) -> bytes:
        buf = io.BytesIO()
        picture.save(buf, "JPEG", quality=80)
        return buf.getvalue()

    with av.open(str(clip.path)) as src:
        small = [encoded(f.to_image().resize((640, 360))) for _, f in zip(range(n_small), src.decode(video=0))]
    huge = encoded(Image.new("L", big, 128))
    fps = 10
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuvj420p"
        for i, data in enumerate(small + [huge] * n_big):      # Matroska counts in milliseconds
            packet = av.Packet(data)
            packet.stream, packet.time_base = stream, Fraction(1, 1000)
            packet.pts = packet.dts = i * 1000 // fps
            packet.duration = 1000 // fps
            out.mux(packet)
    return path


def test_frames_that_grow_past_the_limit_mid_stream_are_never_decoded(clip, tmp_path):
    """Trust pass 3: the header passes the checks (640×360), later frames are 9000×9000 (81
    megapixels, ten times 4K): the search stops before the first of them with the stills found
    so far and a warning, like a truncated stream."""
    path = growing_video(clip, tmp_path / "grow.mkv")
    with av.open(str(path)) as check:      # the file really holds the big frames
        assert max(f.width for f in check.decode(video=0)) == 9000
    assert probe_video(path, "grow.mkv").width == 640
    sheet = find_candidates(path, "grow.mkv")
    assert sheet.frames_decoded == 60 and sheet.candidates
    assert "larger than 4K UHD" in sheet.warning and "breaks off at 00:05.9" in sheet.warning


def test_a_still_without_a_detected_face_says_what_the_detector_found():
    """Daily use: "no people" stated a fact about the picture the detector cannot know (a face
    clearly visible was labelled so); it says "no face found" — also for stills stored before."""
    from artdash.media.images.faces import cast_shot, shot_label

    assert cast_shot(()) == "no face found"
    assert shot_label("no people") == "no face found" and shot_label("two-shot") == "two-shot"


def test_a_long_shot_panning_over_one_scene_gives_one_candidate(tmp_path):
    """A 9 s shot offers a frame every 6 s; the pan moves the picture (its perceptual hash
    changes by half its bits) but not the scene: one candidate per shot, the second frame counted
    as collapsed — the sheet said "0 near-duplicates collapsed" beside two coffee cups."""
    clip = scene_clip(tmp_path / "long.mp4", names=("coffee", "rocket", "chelsea", "astronaut_top"),
                      seconds=[9.0, 3.0, 8.5, 3.0])
    sheet = find_candidates(clip.path, "long.mp4")
    assert len(sheet.shot_starts) == 4
    assert sorted(c.shot for c in sheet.candidates) == [0, 1, 2, 3]
    assert sheet.collapsed == 2 and {c.shot: c.duplicates for c in sheet.candidates} == {0: 1, 1: 0, 2: 1, 3: 0}


def test_a_saved_search_reads_back_equal_and_a_damaged_one_is_dropped(sheet, tmp_path):
    from artdash.discover.saved import clear_search, load_search, save_search

    assert load_search(tmp_path, 7) is None
    save_search(tmp_path, 7, sheet, "ab" * 32)
    back, digest = load_search(tmp_path, 7)
    assert back == sheet and digest == "ab" * 32                       # every field, the pixels too
    save_search(tmp_path, 7, sheet, "cd" * 32)                          # replaced, not added
    assert load_search(tmp_path, 7)[1] == "cd" * 32 and len(list((tmp_path / "discover").iterdir())) == 1
    (tmp_path / "discover" / "title-7" / "sheet.json").write_text('{"format": 1, "sheet": {"candidates": [{"x": 1}]}}')
    assert load_search(tmp_path, 7) is None and not (tmp_path / "discover" / "title-7").exists()
    save_search(tmp_path, 7, sheet, "ef" * 32)
    clear_search(tmp_path, 7)
    assert load_search(tmp_path, 7) is None
