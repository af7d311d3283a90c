"""Concurrent editors and imports, with real threads on SQLite (WAL) and PostgreSQL."""

import threading

import pytest
from sqlalchemy import select

from artdash import catalog
from artdash.access import auth
from artdash.db.models import Variant
from artdash.demo import DEMO_TITLES, load_demo
from artdash.errors import ConflictError
from artdash.results import queries
from artdash.results.service import import_log

HEADER = "event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"


def run_together(*jobs):
    """Start every job at the same moment; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    out = [None] * len(jobs)

    def wrap(i, job):
        barrier.wait()
        try:
            out[i] = job()
        except Exception as exc:  # collected, asserted by the test
            out[i] = exc

    threads = [threading.Thread(target=wrap, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def test_two_editors_saving_the_same_title_one_wins_the_other_sees_the_newer_value(ws):
    with ws.transaction() as s:
        title = catalog.create_title(s, name="Night Ledger", year=2018, actor="a")

    def save(name, year, actor):
        def job():
            with ws.transaction() as s:
                return catalog.update_title(s, title.id, actor=actor, expected_version=title.version, name=name,
                                            year=year, kind="movie", synopsis="")
        return job

    results = run_together(save("Night Ledger (director's cut)", 2019, "ann"), save("Night Ledger II", 2020, "bob"))
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], ConflictError)
    with ws.session() as s:
        stored = catalog.get_title(s, title.id)
    assert stored.name == wins[0].name and stored.version == title.version + 1
    assert wins[0].name in str(losses[0]) or "meanwhile" in str(losses[0]) or "same moment" in str(losses[0])


def test_many_concurrent_status_changes_all_land_or_conflict_cleanly(ws):
    load_demo(ws, titles=DEMO_TITLES[:1])
    with ws.session() as s:
        variants = [(v.id, v.version) for v in s.scalars(select(Variant))]

    def retire(variant_id, version):
        def job():
            with ws.transaction() as s:
                return catalog.set_variant_status(s, variant_id, "retired", "t", expected_version=version)
        return job

    results = run_together(*(retire(v, ver) for v, ver in variants), *(retire(v, ver) for v, ver in variants))
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, ConflictError) for e in errors), errors
    with ws.session() as s:
        assert {v.status for v in s.scalars(select(Variant))} == {"retired"}


def test_an_import_does_not_block_readers(ws):
    load_demo(ws, titles=DEMO_TITLES[:1])
    with ws.session() as s:
        variant = s.scalars(select(Variant)).first()
    import_log(ws, (HEADER + f"seed,2026-11-01T10:00:00Z,m,{variant.title_id},{variant.id},u,0.5,true,400\n").encode(),
               "seed.csv", "t")
    big = HEADER + "".join(f"e{i},2026-11-01T10:00:00Z,m{i % 97},{variant.title_id},{variant.id},u,0.5,true,400\n"
                           for i in range(150_000))
    paused, resume = threading.Event(), threading.Event()

    def hold_the_transaction_open(n_rows):
        # Called inside the import, after its rows are written and before it commits.
        paused.set()
        assert resume.wait(60)

    worker = threading.Thread(target=lambda: import_log(ws, big.encode(), "big.csv", "t",
                                                        progress=hold_the_transaction_open))
    worker.start()
    assert paused.wait(60), "the import never reached its progress hook"
    seen = {}

    def read():
        with ws.results_engine.connect() as conn:
            seen["totals"] = int(queries.variant_totals(conn, queries.Selection())["impressions"].sum())
            seen["stored"] = queries.count_impressions(conn)
        with ws.session() as s:
            seen["titles"] = len(catalog.list_titles(s))

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(30)
    blocked = reader.is_alive()
    resume.set()
    worker.join(120)
    assert not blocked, "a reader waited for the import to finish"
    # Mid-import, readers see the committed state: the one seed row, not the 150,000 in flight.
    assert seen == {"totals": 1, "stored": 1, "titles": 1}
    with ws.results_engine.connect() as conn:
        assert queries.count_impressions(conn) == 150_001


@pytest.mark.parametrize("writers", [2])
def test_two_imports_at_once_both_land(ws, writers):
    load_demo(ws, titles=DEMO_TITLES[:1])
    with ws.session() as s:
        variant = s.scalars(select(Variant)).first()

    def log(prefix):
        rows = "".join(f"{prefix}{i},2026-11-01T10:00:00Z,m,{variant.title_id},{variant.id},u,0.5,false,0\n"
                       for i in range(20_000))
        return lambda: import_log(ws, (HEADER + rows).encode(), f"{prefix}.csv", "t")

    results = run_together(*(log(f"w{k}-") for k in range(writers)))
    assert not [r for r in results if isinstance(r, Exception)], results
    with ws.results_engine.connect() as conn:
        assert queries.count_impressions(conn) == 20_000 * writers
        assert queries.variant_totals(conn, queries.Selection())["impressions"].sum() == 20_000 * writers


def _team(ws):
    with ws.transaction() as s:
        auth.add_user(s, "ada", "admin", "local-admin", "correct horse battery")
        auth.add_user(s, "ed", "editor", "ada", "correct horse battery")


def _failures(ws, name="ed"):
    from artdash.db.models import User

    with ws.session() as s:
        user = s.scalars(select(User).where(User.name == name)).one()
        return user.failed_sign_ins, user.locked_until


def test_parallel_wrong_passwords_get_no_more_tries_than_sequential_ones(ws):
    """16 guesses at once used to be checked all 16 (the count read, hashed, then written):
    now each try reserves itself atomically, so only the free tries are ever checked."""
    _team(ws)

    def guess(password):
        def attempt():
            with ws.session() as s:
                return auth.sign_in(s, "ed", password)
        return attempt

    guesses = [guess(f"wrong guess {i}") for i in range(15)] + [guess("correct horse battery")]
    results = run_together(*guesses)
    refused = [r for r in results if isinstance(r, auth.SignInError)]
    signed_in = [r for r in results if isinstance(r, auth.UserView)]
    assert len(refused) + len(signed_in) == 16 and not [r for r in results if r is None]
    assert {str(r) for r in refused} == {auth.SIGN_IN_REFUSED}
    failures, locked_until = _failures(ws)
    if signed_in:  # the right password was among the free tries: it got in and reset the count
        assert failures == 0 and locked_until is None
    else:          # only the free tries were checked; the account is locked
        assert failures == auth.FREE_FAILURES and locked_until is not None


SIGN_IN_CHILD = """
from artdash.access import auth
from artdash.config import Settings
from artdash.workspace import Workspace

url, data_dir, password = sys.argv[1:4]
ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": data_dir, "ARTDASH_DATABASE_URL": url}), migrate=False)
print("ready", flush=True)
sys.stdin.readline()
try:
    with ws.session() as s:
        auth.sign_in(s, "ed", password)
    print("in", flush=True)
except auth.SignInError:
    print("refused", flush=True)
ws.close()
"""


def test_parallel_guesses_from_separate_processes_are_counted_once_each(ws, tmp_path):
    """The same from eight server processes at once (as eight workers behind a proxy would)."""
    from workspaces import run_at_once

    _team(ws)
    answers = run_at_once(SIGN_IN_CHILD, [[ws.settings.database_url, str(tmp_path / "data"), f"wrong {i}"]
                                          for i in range(8)])
    assert answers == ["refused"] * 8, answers
    failures, locked_until = _failures(ws)
    assert failures == auth.FREE_FAILURES and locked_until is not None
