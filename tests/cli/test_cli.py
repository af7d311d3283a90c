"""The `artdash` command, run in-process against a real SQLite file and media folder."""

import artimages


def test_help_lists_commands_and_settings(run):
    result = run("--help")
    assert result.exit_code == 0
    for word in ("db", "demo", "title", "upload", "ARTDASH_DATABASE_URL", "ARTDASH_MEDIA_DIR"):
        assert word in result.output
    assert "exit code" in run("upload", "--help").output.lower()


def test_db_upgrade_and_current(run):
    from artdash.db.migrate import head_revision

    result = run("db", "upgrade")
    assert result.exit_code == 0 and f"at revision {head_revision()}" in result.output
    assert "default tags added" in result.output
    assert f"{head_revision()} (newest: {head_revision()})" in run("db", "current").output
    assert "default tags" not in run("db", "upgrade").output  # idempotent


def test_title_add_and_list(run):
    result = run("title", "add", "Night Ledger", "--year", "2018", "--genre", "thriller", "--cast", "Dana Kowalski")
    assert result.exit_code == 0 and "added title #1: Night Ledger (2018)" in result.output
    listing = run("title", "list").output
    assert "Night Ledger (2018)" in listing and "thriller" in listing


def test_bad_title_is_a_clear_error_not_a_traceback(run):
    result = run("title", "add", "   ")
    assert result.exit_code == 2
    assert "error: a title needs a name" in result.output
    assert "Traceback" not in result.output
    assert "not a genre" in run("title", "add", "X", "--genre", "polka").output


def test_upload_reports_each_file(run, tmp_path):
    run("title", "add", "Harbour Lights")
    good = tmp_path / "couple.jpg"
    good.write_bytes(artimages.jpeg(seed=1))
    square = tmp_path / "square.png"
    square.write_bytes(artimages.png((800, 800), seed=2))
    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image")
    result = run("upload", "Harbour Lights", str(good), str(fake), str(square))
    assert result.exit_code == 1  # one file was refused
    assert "✓ couple.jpg: variant #1 (600×900)" in result.output
    assert "✗ fake.jpg: refused: it is a text file" in result.output
    assert "warning: aspect ratio 1.00" in result.output
    assert "2 accepted, 1 refused" in result.output
    again = run("upload", "1", str(good))
    assert again.exit_code == 1 and "already in the catalog as variant #1" in again.output


def test_upload_to_unknown_title(run, tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(artimages.jpeg())
    result = run("upload", "Nope", str(image))
    assert result.exit_code == 2 and "no title is called 'Nope'" in result.output


def test_demo_if_empty_loads_once(run):
    first = run("demo", "--if-empty", "--impressions", "3000")
    assert first.exit_code == 0 and "added 14 demo titles" in first.output
    assert "added 3,000 simulated impressions" in first.output
    assert "demo not loaded" in run("demo", "--if-empty").output
    assert "added 0 demo titles" in run("demo").output


def test_members_import_reports_bad_lines(run, tmp_path):
    run("title", "add", "Harbour Lights", "--genre", "romance")
    good = tmp_path / "views.csv"
    good.write_text("member_id,title,watched_at,minutes\nm1,Harbour Lights,2026-10-01,90\n")
    result = run("members", "import", str(good))
    assert result.exit_code == 0 and "imported 1 new views for 1 member(s) (1 new)" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("member_id,title,watched_at,minutes\nm2,Nope,2026-10-01,90\n")
    result = run("members", "import", str(bad))
    assert result.exit_code == 2 and "line 2 (title): unknown title 'Nope'" in result.output


def test_results_import_and_refusal(run, tmp_path):
    run("title", "add", "Harbour Lights")
    image = tmp_path / "a.jpg"
    image.write_bytes(artimages.jpeg())
    run("upload", "1", str(image))
    log = tmp_path / "log.csv"
    log.write_text("id,ts,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"
                   "e1,2026-11-01T10:00:00Z,m1,1,1,uniform,1,true,400\n")
    result = run("results", "import", str(log), "--map", "id=event_id", "--map", "ts=timestamp")
    assert result.exit_code == 0 and "imported 1 new impressions of 1 rows" in result.output
    assert "warning" not in result.output  # the play has a duration
    named = tmp_path / "named.csv"  # the title by its name, as exports give it
    named.write_text("event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds\n"
                     "n1,2026-11-01T10:00:00Z,m1,harbour lights,1,uniform,1,true,400\n")
    assert "imported 1 new impressions" in run("results", "import", str(named)).output
    again = run("results", "import", str(log), "--map", "id=event_id", "--map", "ts=timestamp").output
    assert "nothing new: all 1 rows were imported before" in again and "no import was added" in again
    result = run("results", "import", str(log))
    assert result.exit_code == 2 and "missing column(s): event_id, timestamp" in result.output
    listing = run("results", "imports").output
    assert "log.csv" in listing and "import" in listing
    assert "removed import #1: 1 impression\n" in run("results", "remove", "1", "--yes").output
    assert "removed import #2: 1 impression\n" in run("results", "remove", "2", "--yes").output
    gone = run("results", "remove", "1", "--yes")
    assert gone.exit_code == 2 and "there is no import #1" in gone.output


def test_user_commands_manage_accounts(run, monkeypatch):
    monkeypatch.setenv("ARTDASH_NEW_PASSWORD", "correct horse battery")
    assert "no accounts" in run("user", "list").output
    refused = run("user", "add", "ed", "--role", "editor")
    assert refused.exit_code == 2 and "first account must be an admin" in refused.output
    assert "added ada (admin, with a password)" in run("user", "add", "ada", "--role", "admin").output
    assert "added ed@example.org (viewer)" in run("user", "add", "ed@example.org", "--role", "viewer",
                                                 "--no-password").output
    assert "ed@example.org is now editor" in run("user", "set-role", "ed@example.org", "editor").output
    listing = run("user", "list").output
    assert "ada\tadmin\tpassword" in listing and "ed@example.org\teditor\tOIDC" in listing
    last = run("user", "remove", "ada")
    assert last.exit_code == 2 and "last admin" in last.output
    assert "removed ed@example.org" in run("user", "remove", "ed@example.org").output
    assert "password of ada changed" in run("user", "passwd", "ada").output
    # The command line is trusted: it still works once accounts exist.
    assert run("title", "add", "After Accounts").exit_code == 0


def test_simulate_and_evaluate_print_the_lab_tables(run):
    run("demo", "--impressions", "0")
    result = run("simulate", "--impressions", "3000", "--batch", "1000", "--log")
    assert result.exit_code == 0, result.output
    for words in ("Uniform random", "Contextual bandit (LinUCB)", "quality take rate", "saved as lab run #1",
                  "offline, on the uniform policy's whole log", "DR", "true value",
                  "to the results database (experiment lab-1)"):
        assert words in result.output
    evaluated = run("evaluate", "--experiment", "lab-1", "--cell", "uniform", "--policy", "uniform",
                    "--policy", "linucb")
    assert evaluated.exit_code == 0 and "3,000 impressions of experiment 'lab-1'" in evaluated.output
    assert "replay" in evaluated.output and "SNIPS" in evaluated.output
    rerun = run("evaluate", "--run", "1", "--policy", "linucb")
    assert rerun.exit_code == 0 and "true value" in rerun.output
    bad = run("simulate", "--mix", "Nobody=1")
    assert bad.exit_code == 2 and "no archetype called 'Nobody'" in bad.output
    neither = run("evaluate")
    assert neither.exit_code == 2 and "give either --run" in neither.output


def test_variants_status_in_bulk(run, tmp_path):
    run("title", "add", "Harbour Lights")
    for i in range(3):
        image = tmp_path / f"v{i}.png"
        image.write_bytes(artimages.png(seed=i * 7 + 1))
        run("upload", "Harbour Lights", str(image))
    result = run("variants", "status", "active", "--title", "harbour lights", "--from", "draft")
    assert result.exit_code == 0 and "variant(s) now active" in result.output
    again = run("variants", "status", "active", "1")
    assert "0 variant(s) now active (1 already were)" in again.output
    refused = run("variants", "status", "draft", "1")
    assert refused.exit_code != 0 and "cannot become draft" in refused.output
    # the editor's pick, as the gallery's star sets it
    picked = run("variants", "pick", "harbour lights", "2")
    assert picked.exit_code == 0 and "the editor's pick is now variant #2" in picked.output
    other_title = run("title", "add", "Night Train")
    assert other_title.exit_code == 0
    wrong = run("variants", "pick", "Night Train", "2")
    assert wrong.exit_code != 0 and "belongs to another title" in wrong.output
    cleared = run("variants", "pick", "harbour lights", "--clear")
    assert cleared.exit_code == 0 and "no editor's pick" in cleared.output
    neither = run("variants", "pick", "harbour lights")
    assert neither.exit_code == 2 and "give the variant's id, or --clear" in neither.output


def test_title_import_from_a_manifest_and_a_folder(run, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(2):
        (images / f"p{i}.png").write_bytes(artimages.png(seed=90 + i))
    manifest = tmp_path / "catalog.csv"
    manifest.write_text("title,year,image,status\nHarbour Lights,2019,p0.png,active\nHarbour Lights,2019,p1.png,\n")
    result = run("title", "import", str(manifest), "--images", str(images))
    assert result.exit_code == 0 and "imported 2 variants: 1 new titles, 0 already in the catalog" in result.output
    again = run("title", "import", str(manifest), "--images", str(images))
    assert again.exit_code == 2 and "line 2 (image)" in again.output and "nothing imported" in again.output


def test_keys_create_list_revoke_and_learn(run):
    created = run("keys", "create", "web homepage", "--scope", "decide", "--rate", "20")
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("adk_") and "never shown again" in created.stderr
    listed = run("keys", "list").output
    assert "web homepage" in listed and "decide" in listed and secret.split("_", 2)[2] not in listed
    bad = run("keys", "create", "x")
    assert bad.exit_code == 2 and "2 to 120 characters" in bad.output
    assert run("keys", "revoke", "web homepage").exit_code == 0
    again = run("keys", "revoke", "web homepage")
    assert again.exit_code == 2 and "already revoked" in again.output
    learned = run("learn")
    assert learned.exit_code == 0 and "0 decisions written to the impression log" in learned.output
    assert run("learn", "--full").exit_code == 0
    refused = run("serve", "--no-keys", "--host", "0.0.0.0")
    assert refused.exit_code == 2 and "--no-keys only on 127.0.0.1" in refused.output


def test_variants_where_sets_only_the_rules_given(run, tmp_path):
    assert run("demo").exit_code == 0
    listed = run("variants", "where", "--title", "Harbour Lights", "--territories", "fr, be", "--until", "2027-06-30")
    assert listed.exit_code == 0 and "BE, FR · until 2027-06-30" in listed.output
    again = run("variants", "where", "--title", "Harbour Lights", "--hold")
    assert "BE, FR · until 2027-06-30 · on hold" in again.output           # the others stay as they were
    bad = run("variants", "where", "--title", "Harbour Lights", "--from", "soon")
    assert bad.exit_code == 2 and "--from must be a date or time" in bad.output
    nothing = run("variants", "where", "--title", "Harbour Lights")
    assert nothing.exit_code == 2 and "say what to set" in nothing.output
    wrong = run("variants", "where", "--title", "Harbour Lights", "--territories", "France")
    assert wrong.exit_code == 2 and "two-letter country codes" in wrong.output


def test_results_plan_declares_and_shows_a_split(run):
    assert "no plan declared" in run("results", "plan", "spring").output
    made = run("results", "plan", "spring", "--split", "control=9,bandit=1", "--end", "2027-04-01")
    assert made.exit_code == 0
    assert "control 90% · bandit 10%, ends 2027-04-01; metric: what the log supports (by cli-tester)" in made.output
    assert "control 90%" in run("results", "plan", "spring").output
    counted = run("results", "plan", "spring", "--split", "control=9,bandit=1", "--metric", "plays")
    assert "; metric: plays (by cli-tester)" in counted.output
    assert "; metric: plays" in run("results", "plan", "spring").output
    bad = run("results", "plan", "spring", "--split", "control=9")
    assert bad.exit_code == 2 and "at least two cells" in bad.output


def test_results_source_add_list_refresh_remove(run, tmp_path):
    import pandas as pd
    import sqlalchemy as sa

    assert run("demo").exit_code == 0
    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(tmp_path / "data")}))
    with ws.session() as s:
        from artdash.db.models import Variant

        v, t = s.execute(sa.select(Variant.id, Variant.title_id)).first()
    ws.close()
    url = f"sqlite:///{tmp_path / 'w.db'}"
    pd.DataFrame({"shown_at": pd.to_datetime(["2027-03-01 10:00", "2027-03-02 10:00"], utc=True), "member_id": ["a", "b"],
                  "title_id": [t, t], "variant_id": [v, v], "seen_play": [1, 0], "play_seconds": [900.0, 0.0]}
                 ).to_sql("imp", sa.create_engine(url), index=False)
    added = run("results", "source", "add", "warehouse", "--url", url, "--table", "imp",
                "--map", "shown_at=timestamp", "--map", "seen_play=played")
    assert added.exit_code == 0 and "warehouse: 2 impressions over 2 days" in added.output
    assert "warehouse" in run("results", "source", "list").output
    assert "2 impressions" in run("results", "source", "refresh", "warehouse").output
    bad = run("results", "source", "add", "w2", "--url", "postgresql://u:pw@h/db", "--table", "imp")
    assert bad.exit_code == 2 and "holds a password" in bad.output
    assert "no longer counted" in run("results", "source", "remove", "warehouse").output
    assert "no sources" in run("results", "source", "list").output


def test_results_report_prints_the_readout_and_states_a_thin_variants_condition(run, tmp_path):
    """`artdash results report` prints what the Results page shows, so reviews can be scripted;
    a variant with no quality plays against a control with some says why it has no lift."""
    import csv
    import io
    import json

    run("title", "add", "Harbour Lights")
    for name in ("a", "b"):
        image = tmp_path / f"{name}.jpg"
        image.write_bytes(artimages.jpeg(seed=ord(name)))
        run("upload", "1", str(image))
    lines = ["event_id,timestamp,member_id,title_id,variant_id,policy,propensity,played,play_seconds"]
    for variant, quality in ((1, 30), (2, 0)):
        lines += [f"v{variant}-{i},2026-11-{1 + i % 20:02d}T10:00:00Z,m{i},1,{variant},uniform,0.5,"
                  f"{'true' if i < quality else 'false'},{600 if i < quality else 0}" for i in range(300)]
    log = tmp_path / "log.csv"
    log.write_text("\n".join(lines) + "\n")
    assert run("results", "import", str(log)).exit_code == 0
    condition = "no quality plays yet for #2: the lift cannot be estimated"
    for method in ("sequential", "fixed", "bayesian"):
        table = run("results", "report", "Harbour Lights", "--method", method, "--control", "1")
        assert table.exit_code == 0, table.output
        assert condition in table.output and "control" in table.output and "300" in table.output
        rows = list(csv.DictReader(io.StringIO(run("results", "report", "1", "--method", method, "--control", "1",
                                                    "--format", "csv").output)))
        assert [r["note"] for r in rows] == ["control", condition]
        assert rows[1]["lift"] == "" and rows[0]["method_kind"] == method
        records = json.loads(run("results", "report", "1", "--method", method, "--control", "1",
                                 "--format", "json").output)
        assert records[1]["note"] == condition and records[1]["quality_plays"] == 0
    unknown = run("results", "report", "Nowhere")
    assert unknown.exit_code == 2 and "no title 'Nowhere'" in unknown.output
    wrong = run("results", "report", "1", "--experiment", "nope")
    assert wrong.exit_code == 2 and "no experiment 'nope'" in wrong.output


def test_preview_and_models_say_what_a_member_is_served_and_what_it_was_trained_on(run, tmp_path):
    """`artdash preview` answers as /v1/decide does, logging nothing; `artdash models` lists the
    versions the service trained, with what they learnt from."""
    import json

    from sqlalchemy import func, select
    from workspaces import make_settings

    from artdash.db.results_schema import decisions
    from artdash.demo import DEMO_TITLES, load_demo
    from artdash.serve import DecisionService, LocalClient, ServiceSettings
    from artdash.workspace import Workspace

    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:2])
    service = DecisionService(ws, ServiceSettings(require_keys=False, learn=False), background=False)
    titles = sorted(t for t, c in service.snapshot.candidates.items() if c)
    member = {"id": "m-9", "tastes": {"genre:comedy": 0.9}, "country": "FR"}
    served = LocalClient(service).decide(member, titles)
    args = ["preview", "--member", "m-9", "--tastes", '{"genre:comedy": 0.9}', "--country", "FR",
            *[a for t in titles for a in ("--title", str(t))]]
    shown = json.loads(run(*args, "--json").output)
    assert [{k: d[k] for k in ("title_id", "variant_id", "propensity", "reason")} for d in served["decisions"]] \
        == shown["decisions"] and shown["model_version"] == served["model_version"] == 0
    table = run(*args).output
    assert "nothing logged" in table and "variant_id" in table
    with ws.results_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == len(titles)  # the service's only
    LocalClient(service).outcomes([{"event_id": d["event_id"], "played": True, "play_seconds": 900}
                                   for d in served["decisions"]])
    _, trained = service.learn_now()
    service.close()
    ws.close()
    listed = run("models", "list").output
    assert f"{trained.version}" in listed and "linucb" in listed and "live" in listed and "artdash-serve" in listed
    shown_version = run("models", "show", str(trained.version)).output
    assert "Contextual bandit (LinUCB)" in shown_version and f"n rows: {len(titles)}" in shown_version
    missing = run("models", "show", "999")
    assert missing.exit_code == 2 and "there is no model version 999" in missing.output
    bad = run("preview", "--member", "m-9", "--tastes", "{oops", "--title", "1")
    assert bad.exit_code == 2 and "--tastes is not JSON" in bad.output
    unknown = run("preview", "--member", "m-9", "--tastes", '{"genre:nope": 1}', "--title", "1")
    assert unknown.exit_code == 2 and "there is no tag 'genre:nope'" in unknown.output
    assert run("preview").exit_code == 2


def test_a_real_export_imports_with_one_command_per_file_and_reads_by_take_rate(run, tmp_path):
    """Two exports shaped like a public bandit log (95 columns, an unnamed index column,
    mixed-case names, clicks without durations, both numbering events from 0): one command
    each — the second refused until given --event-id-prefix — and the readout is by take rate,
    per variant and per cell."""
    import real_export

    titles = []
    for name in ("Harbour Lights", "Night Ledger"):
        run("title", "add", name)
    for title_id, name in enumerate(("Harbour Lights", "Night Ledger"), start=1):
        ids = []
        for k in range(2):
            image = tmp_path / f"{title_id}-{k}.jpg"
            image.write_bytes(artimages.jpeg(seed=10 * title_id + k))
            assert run("upload", str(title_id), str(image)).exit_code == 0
            ids.append(2 * (title_id - 1) + k + 1)
        titles.append((name, ids))
    first = real_export.export_csv(tmp_path / "export-nov.csv", titles, 3000, "2026-11-01", seed=1)
    second = real_export.export_csv(tmp_path / "export-dec.csv", titles, 3000, "2026-11-02", seed=2)
    assert len(first.read_text().split("\n", 1)[0].split(",")) >= 80
    done = run("results", "import", str(first), *real_export.map_args())
    assert done.exit_code == 0 and "imported 3,000 new impressions of 3,000 rows" in done.output
    assert "none has a play duration" in done.output                     # said at import
    refused = run("results", "import", str(second), *real_export.map_args())
    assert refused.exit_code == 2 and "were imported before with a different row" in refused.output
    assert "--event-id-prefix" in refused.output
    done = run("results", "import", str(second), *real_export.map_args(), "--event-id-prefix", "dec-")
    assert done.exit_code == 0 and "imported 3,000 new impressions" in done.output
    report = run("results", "report", "Harbour Lights", "--experiment", "obd-campaign")
    assert report.exit_code == 0, report.output
    assert "Metric: take rate — the log has no play durations" in report.output
    assert "take rate CI" in report.output and "quality take rate" not in report.output
    quality = run("results", "report", "Harbour Lights", "--experiment", "obd-campaign", "--metric", "quality")
    assert "Metric: quality take rate — chosen for this readout" in quality.output
    as_csv = run("results", "report", "Harbour Lights", "--experiment", "obd-campaign", "--format", "csv").output
    assert "metric" in as_csv.split("\n", 1)[0] and ",take rate," in as_csv
    cells = run("results", "report", "--experiment", "obd-campaign", "--cells")
    assert cells.exit_code == 0, cells.output
    assert "Metric: plays per impression" in cells.output
    assert "uniform (control)" in cells.output or "personalised (control)" in cells.output
