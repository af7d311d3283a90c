"""Benchmark: the decision service (issue 14), on 127.0.0.1 only, bounded in count and time.

Setup (not timed): a catalog of 1,000 titles with 3–8 active variants each (rows, three random
tags per variant, no image files) and a decision log of ``--rows`` logged decisions (2,000
distinct member contexts, uniform logging, 20 % plays) with their outcomes.

Timed, each against a baseline measured in the same run:
- training the served bandit on the whole log from scratch (``artdash.decision.models.train``, full:
  GROUP BYs in the database, the bandit learns from the sums) vs. the row-at-a-time fit the
  bandit had (``LinearBanditPolicy.fit_features`` on one feature row per logged decision), and
  a retrain after 10,000 new resolved decisions (continuing from the previous version's sums).
  Target ≥ 1M rows/s.
- in-process decide for a row of 40 titles: the decision alone (``prepare``) — target p99 < 1 ms —
  and with its line journaled and fdatasync'd (``decide``, as ``artdash serve`` runs) — p99 < 5 ms.
- start to the first healthy answer of `artdash serve --no-learn` (five starts; the bare
  endpoint's start under the same uvicorn beside it) — target ≤ 0.6 s.
- HTTP on SQLite, two rounds: paced loads of 100 and 300 requests/s for ``--seconds`` (latency
  from each request's scheduled send, so a stall is not hidden) — target p99 ≤ 2× the bare
  endpoint's at the same rate; maximum throughput with wrk (apt-get install wrk) against a bare
  FastAPI endpoint returning the same JSON under the same uvicorn, uvloop, httptools and orjson
  (bench/serve_baseline_app.py) — target ≥ 0.5×; two workers against one — ≥ 1.7×; outcome
  ingest in batches of 1,000 against an endpoint that only parses them — ≥ 0.3× and ≥ 150k/s.
- On PostgreSQL (``ARTDASH_BENCH_POSTGRES_URL`` or ``ARTDASH_TEST_POSTGRES_URL``), two rounds:
  one replica against the bare endpoint — ≥ 0.35×; two replicas behind HAProxy
  (deploy/haproxy.cfg) against one behind the same — ≥ 1.7×.

Usage: python bench/serve.py [--rows 1000000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from _impressions import write_summary  # noqa: E402
from load import catalog_for_the_log, free_port  # noqa: E402

N_CONTEXTS = 2000
KEEP_OPEN = 100_000


def tag_variants(ws, rng) -> None:
    from sqlalchemy import insert, select

    from artdash.db.models import Tag, Variant, VariantTag

    with ws.engine.begin() as conn:
        tags = conn.execute(select(Tag.id)).scalars().all()
        variants = conn.execute(select(Variant.id)).scalars().all()
        conn.execute(insert(VariantTag), [{"variant_id": v, "tag_id": int(t)} for v in variants
                                          for t in rng.choice(tags, 3, replace=False)])


T0_MS = 1_800_000_000_000     # the log's first decision (2027-01-15)


def _catalog_pairs(ws) -> tuple[np.ndarray, dict[int, list[int]]]:
    from sqlalchemy import select

    from artdash.db.models import Variant

    with ws.session() as s:
        pairs = s.execute(select(Variant.id, Variant.title_id)).all()
    by_title: dict[int, list[int]] = {}
    for v, t in pairs:
        by_title.setdefault(t, []).append(v)
    return np.array(sorted(by_title)), by_title


def append_log(ws, rng, start: int, n: int, resolved: int, outcome_at_ms=None) -> list[str]:
    """``n`` uniform decisions numbered from ``start`` (one ms apart from T0_MS + start), the
    first ``resolved`` with an outcome (a second after the decision, or at ``outcome_at_ms``);
    returns the event ids left without one."""
    import pandas as pd

    from artdash.serve.journal import service_secret

    titles, by_title = _catalog_pairs(ws)
    engine = ws.results_engine
    signer = service_secret(engine)         # ids the service accepts outcomes for, as its own
    open_ids: list[str] = []
    chunk = 200_000
    for first in range(start, start + n, chunk):
        m = min(chunk, start + n - first)
        t = titles[rng.integers(len(titles), size=m)]
        k = np.array([len(by_title[x]) for x in t])
        slot = (rng.random(m) * k).astype(int)
        v = np.array([by_title[x][s] for x, s in zip(t, slot)])
        at = T0_MS + np.arange(first, first + m)
        ids = [signer.base(int(a), 1) + "00" for a in at.tolist()]
        frame = pd.DataFrame({"event_id": ids, "at_ms": at,
                              "member_id": [f"m{x}" for x in rng.integers(100_000, size=m)], "title_id": t,
                              "variant_id": v, "propensity": 1.0 / k, "candidates": "[]", "policy": "uniform",
                              "model_version": 0, "context_hash": [f"{x:016x}" for x in rng.integers(N_CONTEXTS, size=m)],
                              "country": "", "device": ""})
        closed = max(0, min(m, start + resolved - first))
        played = rng.random(closed) < 0.2
        outcome_at = at[:closed] + 1000 if outcome_at_ms is None else np.full(closed, outcome_at_ms)
        with engine.begin() as conn:
            frame.to_sql("decisions", conn, if_exists="append", index=False, method=None, chunksize=50_000)
            pd.DataFrame({"event_id": ids[:closed], "at_ms": outcome_at, "played": played.astype(int),
                          "play_seconds": np.where(played, rng.uniform(5, 5400, closed), 0.0), "late": 0}
                         ).to_sql("outcomes", conn, if_exists="append", index=False, chunksize=50_000)
        open_ids += ids[closed:]
    return open_ids


def fill_log(ws, n_rows: int, rng, keep_open: int) -> list[str]:
    """``n_rows`` decisions with outcomes, plus ``keep_open`` without (their event ids are returned)."""
    from sqlalchemy import select

    from artdash.db.models import Tag
    from artdash.db.results_schema import decision_contexts

    with ws.session() as s:
        tags = s.scalars(select(Tag.id)).all()
    contexts = []
    for i in range(N_CONTEXTS):
        picked = rng.choice(tags, 5, replace=False)
        contexts.append({"context_hash": f"{i:016x}", "affinities": json.dumps(
            {str(int(t)): round(float(w), 2) for t, w in zip(picked, rng.uniform(-1, 1, 5))}), "country": "", "device": ""})
    with ws.results_engine.begin() as conn:
        conn.execute(decision_contexts.insert(), contexts)
    return append_log(ws, rng, 0, n_rows + keep_open, n_rows)


def bench_training(ws, service, n_rows: int, keep_open: int, rng) -> dict:
    from datetime import UTC, datetime

    from sqlalchemy import text

    from artdash.decision.models import train
    from artdash.policy.linear import LinearBanditPolicy

    def at(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    closed = at(T0_MS + n_rows)             # every logged decision's window has closed …
    cold_now = at(T0_MS + n_rows + 3_600_000)
    times = []
    for _ in range(3):                      # from scratch: the whole log
        with ws.session() as s:
            t0 = time.perf_counter()
            report = train(ws.results_engine, s, "linucb", service.snapshot, 300.0, closed, now=cold_now, full=True)
            times.append(time.perf_counter() - t0)
    # … then traffic goes on: 10,000 new decisions whose outcomes arrived early, and a retrain
    increments, step = [], 10_000
    start = n_rows + keep_open
    for i in range(3):
        outcome_ms = T0_MS + n_rows + 3_600_000 + (i + 1) * 120_000
        append_log(ws, rng, start, step, step, outcome_at_ms=outcome_ms)
        start += step
        with ws.session() as s:
            t0 = time.perf_counter()
            more = train(ws.results_engine, s, "linucb", service.snapshot, 300.0, closed,
                         now=at(outcome_ms + 61_000))
            increments.append(time.perf_counter() - t0)
        assert more.incremental and more.new_rows == step, more
    # the baseline: one feature row per logged decision, fitted by the bandit row by row (as Preview does)
    features = service.snapshot.features
    with ws.results_engine.connect() as conn:
        rows = conn.execute(text("SELECT d.context_hash, d.variant_id, d.propensity, "
                                 "CASE WHEN o.played = 1 AND o.play_seconds >= 300 THEN 1 ELSE 0 END "
                                 "FROM decisions d JOIN outcomes o ON o.event_id = d.event_id "
                                 f"WHERE d.at_ms < {T0_MS + n_rows}")).all()
        contexts = dict(conn.execute(text("SELECT context_hash, affinities FROM decision_contexts")).all())
    t0 = time.perf_counter()
    affinity = {h: np.zeros(features.n_tags) for h in contexts}
    for h, a in contexts.items():
        for tag, w in json.loads(a).items():
            affinity[h][features.index[int(tag)]] = w
    variant_tags: dict[int, np.ndarray] = {}
    for cands in service.snapshot.candidates.values():
        for c in cands:
            variant_tags[c.variant_id] = np.concatenate([features.tag_matrix([c])[0], c.visual])
    x = np.empty((len(rows), features.dim))
    for i, (h, v, _, _) in enumerate(rows):
        tv = variant_tags[v]
        x[i, :features.n_tags] = affinity[h] * tv[:features.n_tags]
        x[i, features.n_tags:-1] = tv[features.n_tags:]
        x[i, -1] = 1.0
    LinearBanditPolicy(features).fit_features(x, np.array([r[3] for r in rows], dtype=float),
                                              np.array([r[2] for r in rows]))
    baseline = time.perf_counter() - t0
    median = statistics.median(times)
    incremental = statistics.median(increments)
    return {"rows": n_rows, "groups": report.n_groups, "train_s_median": round(median, 3),
            "train_rows_per_s": round(n_rows / median), "baseline_row_at_a_time_s": round(baseline, 2),
            "baseline_rows_per_s": round(len(rows) / baseline), "speedup": round(baseline / median, 1),
            "retrain_after_10k_new_s_median": round(incremental, 3),
            "retrain_log_rows": more.n_rows, "retrain_new_rows_per_s": round(step / incremental),
            "retrain_log_rows_per_s": round(more.n_rows / incremental),
            "target_rows_per_s": 1_000_000}


def percentiles(values: list[float]) -> dict:
    a = np.array(values) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p99_ms": round(float(np.percentile(a, 99)), 3),
            "max_ms": round(float(a.max()), 2), "n": len(values)}


def bench_in_process(service, rng, n: int = 3000) -> dict:
    titles = np.array(sorted(t for t, c in service.snapshot.candidates.items() if c))
    tag_names = [k for k in service.snapshot.tag_names if ":" in k]

    def body(i: int) -> dict:
        tastes = {name: round(float(w), 2) for name, w in zip(rng.choice(tag_names, 5, replace=False), rng.uniform(-1, 1, 5))}
        return {"member": {"id": f"bench-{i}", "tastes": tastes}, "titles": rng.choice(titles, 40, replace=False).tolist()}

    bodies = [body(i) for i in range(n)]
    for b in bodies[:200]:
        service.prepare(b)                                 # warm up
    alone = []
    for b in bodies:
        t0 = time.perf_counter()
        service.prepare(b)
        alone.append(time.perf_counter() - t0)
    logged = []
    for b in bodies[:1000]:
        t0 = time.perf_counter()
        service.decide(b)
        logged.append(time.perf_counter() - t0)
    # the members above are served the version in effect when their window began (the untrained
    # one: uniform, the same for everyone); here the newest trained version, which reads every
    # member's tastes
    from artdash import clock
    from artdash.decision.decide import decide
    from artdash.serve.schema import DecideIn

    trained = []
    served, snapshot = service.served, service.snapshot
    for b in bodies[:2000]:
        request = DecideIn.model_validate(b)
        member = service.member_of(request, snapshot)
        t0 = time.perf_counter()
        decide(snapshot, served, member, request.titles, clock.now(), signer=service.signer)
        trained.append(time.perf_counter() - t0)
    return {"row_of_40_titles": {"decision_only": percentiles(alone), "with_durable_log": percentiles(logged),
                                 f"trained_version_{served.version}_decide": percentiles(trained)},
            "target_p99_ms": {"decision_only": 1.0, "with_durable_log": 5.0}, "sample_body": bodies[0]}


def start(cmd: list[str], env: dict, url: str, log: Path) -> subprocess.Popen:
    import urllib.request

    proc = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return proc
        except Exception:  # noqa: BLE001
            if proc.poll() is not None:
                raise SystemExit(log.read_text()) from None
            time.sleep(0.1)
    raise SystemExit(f"{cmd} did not start")


async def paced(url: str, key: str | None, bodies: list[bytes], rate: int, seconds: float, workers: int = 32) -> dict:
    """Send ``rate`` requests per second for ``seconds`` from ``workers`` keep-alive connections
    (each opened by one untimed request first); latency counts from each request's scheduled time (a slow answer delays the next ones of
    its connection, and that delay is counted: no coordinated omission)."""
    import httpx

    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    ready = asyncio.Event()
    warmed = [0]
    t_start = 0.0

    async def worker(w: int) -> None:
        nonlocal errors
        nonlocal t_start
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10,
                                     limits=httpx.Limits(max_connections=1)) as client:
            await client.post("/v1/decide", content=bodies[w % len(bodies)])   # its connection, opened untimed
            warmed[0] += 1
            if warmed[0] == workers:
                t_start = time.perf_counter() + 0.2
                ready.set()
            await ready.wait()
            for i in range(w, total, workers):
                scheduled = t_start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                r = await client.post("/v1/decide", content=bodies[i % len(bodies)])
                if r.status_code != 200:
                    errors += 1
                latencies.append(time.perf_counter() - scheduled)

    await asyncio.gather(*(worker(w) for w in range(workers)))
    elapsed = time.perf_counter() - t_start
    return percentiles(latencies) | {"rate": rate, "achieved_per_s": round(total / elapsed), "errors": errors}


def wrk(url: str, body: bytes, key: str | None, seconds: int, folder: Path) -> dict | None:
    if shutil.which("wrk") is None:
        return None
    script = folder / "post.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {key}"\n' if key else ""
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n' + auth
                      + f"wrk.body = {json.dumps(body.decode())}\n")
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url + "/v1/decide"],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = next(float(line.split()[1]) for line in out.splitlines() if line.startswith("Requests/sec"))
    non2xx = next((int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    return {"requests_per_s": round(rps), "non_2xx": non2xx}


def bench_outcomes(url: str, key: str | None, open_ids: list[str], batch: int = 1000) -> dict:
    import httpx
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    bodies = [json.dumps({"outcomes": [{"event_id": e, "played": i % 5 == 0, "play_seconds": 600.0 if i % 5 == 0 else 0}
                                       for i, e in enumerate(open_ids[s:s + batch])]}).encode()
              for s in range(0, len(open_ids), batch)]
    accepted = 0
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        t0 = time.perf_counter()
        for b in bodies:
            accepted += client.post("/v1/outcomes", content=b).json()["accepted"]
        seconds = time.perf_counter() - t0
    return {"events": accepted, "batch": batch, "seconds": round(seconds, 2), "events_per_s": round(accepted / seconds)}


def haproxy(port: int, servers: list[int], folder: Path) -> subprocess.Popen | None:
    """HAProxy (deploy/haproxy.cfg's settings) on ``port`` in front of ``servers``."""
    if shutil.which("haproxy") is None:
        return None
    config = (ROOT / "deploy" / "haproxy.cfg").read_text().split("    server a")[0]
    config += "".join(f"    server s{i} 127.0.0.1:{p} check\n" for i, p in enumerate(servers))
    path = folder / f"haproxy-{port}.cfg"
    path.write_text(config)
    env = {**os.environ, "ARTDASH_LB_PORT": str(port)}
    return start(["haproxy", "-db", "-f", str(path)], env, f"http://127.0.0.1:{port}/v1/health",
                 folder / f"haproxy-{port}.log")


def stop(*procs) -> None:
    for proc in procs:
        if proc is not None:
            proc.terminate()
            proc.wait(30)


def bench_http_round(data: Path, key: str, body: bytes, bodies: list[bytes], open_ids: list[str], seconds: int,
                     folder: Path, env: dict) -> dict:
    """One round of the HTTP measurements on SQLite: paced 100 and 300 requests/s and maximum
    throughput against the bare endpoint, two workers against one, outcome ingest against a
    parse-only endpoint."""
    out: dict = {}
    port, base_port = free_port(), free_port()
    url, base_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{base_port}"
    service = start([sys.executable, "-m", "artdash", "serve", "--port", str(port), "--no-learn"], env,
                    url + "/v1/health", folder / "serve.log")
    baseline = start([sys.executable, "-m", "uvicorn", "serve_baseline_app:app", "--port", str(base_port),
                      "--log-level", "warning", "--no-access-log", "--app-dir", str(Path(__file__).parent)],
                     env, base_url + "/docs", folder / "baseline.log")
    try:
        for rate in (100, 300):
            s, b = asyncio.run(paced(url, key, bodies, rate, seconds)), asyncio.run(paced(base_url, None, bodies, rate, seconds))
            out[f"paced_{rate}"] = {"service": s, "bare": b, "p99_ratio": round(s["p99_ms"] / b["p99_ms"], 2),
                                    "target_p99_ratio": 2.0}
        one, bare = wrk(url, body, key, seconds, folder), wrk(base_url, body, None, seconds, folder)
        out["max_one_worker"] = {"service": one, "bare": bare, "target_ratio": 0.5}
        if one and bare:
            out["max_one_worker"]["ratio"] = round(one["requests_per_s"] / bare["requests_per_s"], 3)
        half = len(open_ids) // 2
        got, floor = bench_outcomes(url, key, open_ids[:half]), bench_outcomes(base_url, None, open_ids[half:])
        out["outcomes"] = {"service": got, "parse_only": floor, "ratio": round(got["events_per_s"] / floor["events_per_s"], 3),
                           "target_ratio": 0.3, "target_events_per_s": 150_000}
    finally:
        stop(service, baseline)
    port2 = free_port()
    two = start([sys.executable, "-m", "artdash", "serve", "--port", str(port2), "--no-learn", "--workers", "2"], env,
                f"http://127.0.0.1:{port2}/v1/health", folder / "serve2.log")
    try:
        time.sleep(2)                                   # both workers up
        both = wrk(f"http://127.0.0.1:{port2}", body, key, seconds, folder)
        out["max_two_workers"] = {"service": both, "target_ratio_to_one": 1.7}
        if both and one:
            out["max_two_workers"]["ratio_to_one"] = round(both["requests_per_s"] / one["requests_per_s"], 3)
    finally:
        stop(two)
    return out


def time_to_answer(cmd: list[str], env: dict, url: str, log: Path) -> float:
    """Seconds from starting ``cmd`` to its first answer at ``url`` (polled every 5 ms)."""
    import urllib.request

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        while time.perf_counter() - t0 < 30:
            try:
                urllib.request.urlopen(url, timeout=1)
                return time.perf_counter() - t0
            except Exception:  # noqa: BLE001
                if proc.poll() is not None:
                    raise SystemExit(log.read_text()) from None
                time.sleep(0.005)
        raise SystemExit(f"{cmd} did not answer in 30 s")
    finally:
        stop(proc)


def bench_start(env: dict, folder: Path, n: int = 5) -> dict:
    """Start to the first healthy answer: `artdash serve --no-learn` (its /v1/health: catalog
    loaded, served version chosen) against the bare endpoint under the same uvicorn (its /docs),
    ``n`` starts each, alternating."""
    service, bare = [], []
    for _ in range(n):
        port = free_port()
        service.append(time_to_answer([sys.executable, "-m", "artdash", "serve", "--port", str(port), "--no-learn"],
                                      env, f"http://127.0.0.1:{port}/v1/health", folder / "start.log"))
        port = free_port()
        bare.append(time_to_answer([sys.executable, "-m", "uvicorn", "serve_baseline_app:app", "--port", str(port),
                                    "--log-level", "warning", "--app-dir", str(Path(__file__).parent)],
                                   env, f"http://127.0.0.1:{port}/docs", folder / "start-bare.log"))
    return {"service_s": [round(x, 3) for x in service], "bare_s": [round(x, 3) for x in bare],
            "service_median_s": round(statistics.median(service), 3), "bare_median_s": round(statistics.median(bare), 3),
            "target_s": 0.6}


def bench_postgres(url: str, body: bytes, seconds: int, folder: Path) -> dict | None:
    """On PostgreSQL: one replica against the bare endpoint, and two replicas behind HAProxy
    against one behind the same HAProxy."""
    import uuid

    from sqlalchemy import create_engine, make_url, text

    from artdash.access.api_keys import create_key
    from artdash.config import Settings
    from artdash.workspace import Workspace

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    pg = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    procs: list = []
    try:
        catalog_for_the_log(folder / "pg-data", pg)
        ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(folder / "pg-data"), "ARTDASH_DATABASE_URL": pg}))
        tag_variants(ws, np.random.default_rng(14))
        with ws.transaction() as s:
            key = create_key(s, "bench", "bench", rate_per_second=100_000).secret
        ws.close()
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            replica = folder / f"replica-{i}"
            replica.mkdir()
            env = {**os.environ, "ARTDASH_DATA_DIR": str(replica), "ARTDASH_DATABASE_URL": pg}
            procs.append(start([sys.executable, "-m", "artdash", "serve", "--port", str(port)] + (["--no-learn"] if i else []),
                               env, f"http://127.0.0.1:{port}/v1/health", replica / "serve.log"))
        base_port = free_port()
        procs.append(start([sys.executable, "-m", "uvicorn", "serve_baseline_app:app", "--port", str(base_port),
                            "--log-level", "warning", "--no-access-log", "--app-dir", str(Path(__file__).parent)],
                           {**os.environ}, f"http://127.0.0.1:{base_port}/docs", folder / "pg-baseline.log"))
        one = wrk(f"http://127.0.0.1:{ports[0]}", body, key, seconds, folder)
        bare = wrk(f"http://127.0.0.1:{base_port}", body, None, seconds, folder)
        out: dict = {"one_replica": one, "bare": bare, "target_ratio": 0.35}
        if one and bare:
            out["ratio"] = round(one["requests_per_s"] / bare["requests_per_s"], 3)
        lb_one, lb_two = free_port(), free_port()
        balancer_one = haproxy(lb_one, [ports[0]], folder)
        balancer_two = haproxy(lb_two, ports, folder)
        procs += [balancer_one, balancer_two]
        if balancer_one and balancer_two:
            behind_one = wrk(f"http://127.0.0.1:{lb_one}", body, key, seconds, folder)
            behind_two = wrk(f"http://127.0.0.1:{lb_two}", body, key, seconds, folder)
            out["haproxy_one_replica"], out["haproxy_two_replicas"] = behind_one, behind_two
            if behind_one and behind_two:
                out["two_to_one"] = round(behind_two["requests_per_s"] / behind_one["requests_per_s"], 3)
            out["target_two_to_one"] = 1.7
        return out
    finally:
        stop(*procs)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--only-training", action="store_true", help="measure training only (nothing recorded)")
    parser.add_argument("--only-start", action="store_true", help="measure start to health only (nothing recorded)")
    args = parser.parse_args()
    from artdash.access.api_keys import create_key
    from artdash.config import Settings
    from artdash.serve import DecisionService, ServiceSettings
    from artdash.workspace import Workspace

    rng = np.random.default_rng(14)
    folder = Path(tempfile.mkdtemp(prefix="artdash-bench-serve-"))
    data = folder / "data"
    summary: dict = {"rows": args.rows}
    try:
        print("setting up the catalog and the decision log …", flush=True)
        catalog_for_the_log(data)
        ws = Workspace.open(Settings.from_env({"ARTDASH_DATA_DIR": str(data)}))
        tag_variants(ws, rng)
        open_ids = fill_log(ws, args.rows, rng, keep_open=KEEP_OPEN)
        with ws.transaction() as s:
            key = create_key(s, "bench", "bench", rate_per_second=100_000).secret
        # in process as `artdash serve` runs: decisions journaled (fdatasync'd) before they are answered
        service = DecisionService(ws, ServiceSettings(require_keys=False, journal_dir=str(folder / "journal-in-process")),
                                  background=False)
        print("training …", flush=True)
        summary["training"] = bench_training(ws, service, args.rows, KEEP_OPEN, rng)
        if args.only_training:
            print(json.dumps(summary["training"], indent=2))
            return
        service.refresh()
        print("in-process decisions …", flush=True)
        summary["in_process"] = bench_in_process(service, rng)
        sample = summary["in_process"].pop("sample_body")
        answer = service.decide(sample)
        service.close()
        ws.close()
        if args.only_start:
            print(json.dumps(bench_start({**os.environ, "ARTDASH_DATA_DIR": str(data)}, folder), indent=2))
            return
        bodies = [json.dumps(sample | {"member": sample["member"] | {"id": f"h{i}"}}).encode() for i in range(500)]
        env = {**os.environ, "ARTDASH_DATA_DIR": str(data), "BENCH_ANSWER": json.dumps(answer)}
        env.pop("ARTDASH_DATABASE_URL", None)
        print("start to health …", flush=True)
        summary["start_to_health"] = bench_start(env, folder)
        rounds = []
        for r in range(2):                        # twice: a ratio is believed when both rounds agree
            print(f"HTTP, round {r + 1} of 2 …", flush=True)
            rounds.append(bench_http_round(data, key, bodies[0], bodies, open_ids[r::2], args.seconds, folder, env))
        summary["http"] = rounds
        pg_url = os.environ.get("ARTDASH_BENCH_POSTGRES_URL") or os.environ.get("ARTDASH_TEST_POSTGRES_URL")
        if pg_url:
            print("PostgreSQL: one replica, two behind HAProxy …", flush=True)
            os.environ["BENCH_ANSWER"] = json.dumps(answer)
            summary["postgres"] = []
            for r in range(2):
                (folder / f"pg-{r}").mkdir()
                try:
                    summary["postgres"].append(bench_postgres(pg_url, bodies[0], args.seconds, folder / f"pg-{r}"))
                except Exception as e:  # noqa: BLE001 - the SQLite figures are kept, the failure said
                    summary["postgres"].append({"error": f"{type(e).__name__}: {e}"})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary["date"] = time.strftime("%Y-%m-%d")
    write_summary("serve", summary)


if __name__ == "__main__":
    main()
