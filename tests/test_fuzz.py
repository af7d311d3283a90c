"""Property-based tests: whatever bytes a person or a file gives, only ArtDash's own error
type escapes, and a rejected input writes nothing."""

import io
import os
from pathlib import Path

import artimages
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from workspaces import make_settings

from artdash import catalog
from artdash.catalog import history
from artdash.db.models import Persona, Variant, ViewingRecord
from artdash.demo import DEMO_TITLES, load_demo
from artdash.errors import ArtdashError
from artdash.media import images
from artdash.results import queries
from artdash.results.ingest import ingest
from artdash.results.service import impression_log
from artdash.workspace import Workspace

# `make fuzz` explores many more examples (ARTDASH_FUZZ_EXAMPLES), randomly; Hypothesis then
# writes each failure it finds as an @example patch, which `make fuzz` applies to this file.
FUZZ = settings(max_examples=int(os.environ.get("ARTDASH_FUZZ_EXAMPLES", "120")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    workspace = Workspace.open(make_settings(tmp_path_factory.mktemp("fuzz")))
    load_demo(workspace, titles=DEMO_TITLES[:1])
    yield workspace
    workspace.close()


SEEDS = [artimages.jpeg((64, 96), seed=1), artimages.png((64, 96), seed=2),
         artimages.jpeg_with_camera_metadata((64, 96), seed=3, orientation=6)]


@st.composite
def damaged_images(draw):
    """A real image with bytes flipped, cut short, or spliced; or plain random bytes."""
    kind = draw(st.sampled_from(["flip", "truncate", "splice", "random"]))
    if kind == "random":
        return draw(st.binary(min_size=0, max_size=4096))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 20))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
    elif kind == "truncate":
        data = data[:draw(st.integers(0, len(data) - 1))]
    else:
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=512)) + data[cut:]
    return bytes(data)


def flipped(data: bytes, changes: dict[int, int]) -> bytes:
    """``data`` with the bytes at the given offsets replaced (to pin a failure the fuzzer found)."""
    out = bytearray(data)
    for offset, value in changes.items():
        out[offset] = value
    return bytes(out)


# Damaged EXIF beside an orientation tag: Pillow's exif_transpose raised struct.error / TypeError
# re-encoding it (found by `make fuzz`, 2026-12-01).
DAMAGED_EXIF = [flipped(SEEDS[2], {3: 0, 53: 0}), flipped(SEEDS[2], {3: 0, 137: 0})]


def media_files(ws) -> int:
    return sum(1 for p in Path(ws.store.root).rglob("*") if p.is_file())


@FUZZ
@given(data=damaged_images(), name=st.text(max_size=80))
@example(data=DAMAGED_EXIF[0], name="0")
@example(data=DAMAGED_EXIF[1], name="0")
def test_image_validation_only_raises_its_own_errors(data, name):
    try:
        images.process_image(name, data)
    except ArtdashError:
        pass


@FUZZ
@given(data=damaged_images(), name=st.text(max_size=40))
@example(data=DAMAGED_EXIF[0], name="0")
@example(data=DAMAGED_EXIF[1], name="0")
def test_a_refused_upload_writes_nothing(ws, data, name):
    with ws.session() as s:
        title_id = catalog.list_titles(s)[0].id
        before_rows = s.scalar(select(func.count()).select_from(Variant))
    before_files = media_files(ws)
    try:
        with ws.transaction() as s:
            result = catalog.ingest_image(s, ws.store, title_id, name, data, "fuzz")
    except ArtdashError:
        result = None
    if result is None or not result.accepted:
        with ws.session() as s:
            assert s.scalar(select(func.count()).select_from(Variant)) == before_rows
        assert media_files(ws) == before_files


LOG_COLUMNS = ["event_id", "timestamp", "member_id", "title_id", "variant_id", "policy", "propensity", "played",
               "play_seconds", "experiment", "cell", "country", "device"]
cell_text = st.one_of(st.text(max_size=12), st.sampled_from(["", "1", "0", "true", "1.5", "-1", "nan", "inf",
                                                             "2026-11-01T10:00:00Z", "2026-11-01 10:00",
                                                             "2026-13-45T99:00:00Z", "1e308", "NULL", " 7 "]))


@st.composite
def impression_logs(draw, variant_ids):
    columns = draw(st.lists(st.sampled_from(LOG_COLUMNS), min_size=1, max_size=len(LOG_COLUMNS), unique=True))
    if draw(st.booleans()):
        columns = LOG_COLUMNS[:9]
    rows = []
    for i in range(draw(st.integers(0, 12))):
        row = {c: draw(cell_text) for c in columns}
        if draw(st.booleans()) and "variant_id" in columns:
            row["variant_id"] = str(draw(st.sampled_from(variant_ids)))
        if draw(st.booleans()) and "event_id" in columns:
            row["event_id"] = f"ev{i}"
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    if draw(st.booleans()):
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        return buffer.getvalue(), "log.parquet"
    text = frame.to_csv(index=False)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    try:
        return text.encode(encoding), "log.csv"
    except UnicodeEncodeError:
        return text.encode("utf-8"), "log.csv"


@FUZZ
@given(st.data())
def test_impression_import_refuses_or_imports_and_a_refusal_writes_nothing(ws, data):
    with ws.session() as s:
        variant_titles = dict(s.execute(select(Variant.id, Variant.title_id)).all())
    raw, name = data.draw(st.one_of(impression_logs(sorted(variant_titles)),
                                    st.tuples(st.binary(max_size=2048), st.sampled_from(["x.csv", "x.parquet"]))))
    engine = ws.results_engine
    with engine.connect() as conn:
        before = queries.count_impressions(conn), len(queries.import_history(conn))
    try:
        report = ingest(impression_log(ws), raw, name, "fuzz", variant_titles, 300.0,
                        skip_unknown=data.draw(st.booleans()))
    except ArtdashError:
        with engine.connect() as conn:
            assert (queries.count_impressions(conn), len(queries.import_history(conn))) == before
    else:
        with engine.connect() as conn:
            assert queries.count_impressions(conn) == before[0] + report.n_inserted


HISTORY_COLUMNS = ["member_id", "title", "watched_at", "minutes"]


@st.composite
def history_files(draw, title_names):
    columns = draw(st.sampled_from([HISTORY_COLUMNS, HISTORY_COLUMNS[:3], ["member", "title", "when", "minutes"]]))
    rows = []
    for _ in range(draw(st.integers(0, 10))):
        row = {c: draw(cell_text) for c in columns}
        if "title" in row and draw(st.booleans()):
            row["title"] = draw(st.sampled_from(title_names))
        rows.append(row)
    return pd.DataFrame(rows, columns=columns).to_csv(index=False).encode(), "views.csv"


HISTORY_TITLES = [t.name for t in DEMO_TITLES[:1]]  # the fuzz workspace's catalog
HISTORY_FILES = st.one_of(history_files(HISTORY_TITLES), st.tuples(st.binary(max_size=1024), st.just("views.csv")))


@FUZZ
@given(upload=HISTORY_FILES)
# "/1" reads as year 0: a date pandas accepts and Python's datetime cannot hold (found by the fuzzer).
@example(upload=(f"member_id,title,watched_at,minutes\nm1,{HISTORY_TITLES[0]},/1,30\n".encode(), "views.csv"))
def test_history_import_refuses_or_imports_and_a_refusal_writes_nothing(ws, upload):
    raw, name = upload
    with ws.session() as s:
        before = (s.scalar(select(func.count()).select_from(ViewingRecord)),
                  s.scalar(select(func.count()).select_from(Persona)))
    try:
        with ws.transaction() as s:
            history.import_history(s, raw, name, "fuzz")
    except ArtdashError:
        with ws.session() as s:
            after = (s.scalar(select(func.count()).select_from(ViewingRecord)),
                     s.scalar(select(func.count()).select_from(Persona)))
        assert after == before


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    """A workspace with one account and a valid sign-in token for it."""
    from artdash.access import auth

    workspace = Workspace.open(make_settings(tmp_path_factory.mktemp("tokens")))
    with workspace.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", "correct horse battery")
    with workspace.session() as s:
        token = auth.issue_token(s, "ada", b"k" * 32, hours=1)
    yield workspace, token
    workspace.close()


@FUZZ
@given(data=st.data())
def test_a_sign_in_cookie_is_accepted_only_as_issued(signed, data):
    """Whatever a browser sends as the cookie — random text, or the real token with a few
    characters changed — it signs in nobody, and nothing but None comes back."""
    from artdash.access import auth

    workspace, token = signed
    if data.draw(st.booleans()):
        candidate = data.draw(st.text(max_size=200))
    else:
        chars = list(token)
        for _ in range(data.draw(st.integers(1, 5))):
            chars[data.draw(st.integers(0, len(chars) - 1))] = data.draw(st.characters())
        candidate = "".join(chars)
    with workspace.session() as s:
        user = auth.verify_token(s, candidate, b"k" * 32)
    assert user is None or candidate == token


def test_a_cookie_whose_mac_holds_a_lone_surrogate_signs_in_nobody(signed):
    """Found by exploring (a clean clone's `make test` once did): the MAC's last character
    replaced by a lone surrogate made verify_token raise UnicodeEncodeError."""
    from artdash.access import auth

    workspace, token = signed
    with workspace.session() as s:
        for forged in (token[:-1] + "\ud800", "\udfff" + token, token.replace(".", ".\ud83d", 1)):
            assert auth.verify_token(s, forged, b"k" * 32) is None
