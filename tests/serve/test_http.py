"""The decision service over real HTTP: `artdash serve` in its own process on 127.0.0.1, API
keys checked (missing, wrong, revoked, wrong scope, over the rate limit), every refusal a JSON
error, clients in parallel, and a service killed mid-traffic losing no acknowledged decision."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from workspaces import make_settings

from artdash.access.api_keys import create_key, list_keys, revoke_key
from artdash.db.results_schema import decisions
from artdash.demo import DEMO_TITLES, load_demo
from artdash.serve import HttpClient, ServiceError, schema
from artdash.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def data(tmp_path):
    ws = Workspace.open(make_settings(tmp_path))
    load_demo(ws, titles=DEMO_TITLES[:3])
    with ws.transaction() as s:
        keys = {name: create_key(s, "local-admin", name, scopes, rate).secret for name, scopes, rate in (
            ("backend", "decide,outcomes", 10_000), ("reporter", "outcomes", 10_000), ("slow", "decide", 3),
            ("to revoke", "decide", 10_000))}
    ws.close()
    return tmp_path / "data", keys


@contextmanager
def serving(folder: Path, *args: str, database_url: str | None = None, port: int | None = None):
    """`artdash serve` over the data in ``folder`` (its SQLite file, or ``database_url``), as a
    process of its own; yields its URL and the process once it answers."""
    port = port or free_port()
    env = {**os.environ, "ARTDASH_DATA_DIR": str(folder)}
    env.pop("ARTDASH_DATABASE_URL", None)
    if database_url:
        env["ARTDASH_DATABASE_URL"] = database_url
    log = open(folder / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "artdash", "serve", "--port", str(port), "--refresh-seconds", "0.3",
                             *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            HttpClient(url).health()
            break
        except (OSError, ServiceError):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise AssertionError((folder / "serve.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        log.close()


def raw(url: str, path: str, body: bytes | None, key: str | None = None, content_type="application/json"):
    import urllib.error
    import urllib.request

    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {key}"} if key else {})
    request = urllib.request.Request(url + path, data=body, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def forged(key: str) -> str:
    """The key with its last character changed (to one it is not: a fixed letter is the real one 1 time in 16)."""
    return key[:-1] + ("B" if key.endswith("A") else "A")


def announce_big_body(url: str, key: str):
    """Headers announcing a 5 MB body, and nothing more: the refusal comes before any is read."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /v1/decide HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n".encode())
        reply = read_reply(conn)
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), {}, json.loads(body)


def read_reply(conn) -> bytes:
    """What the server answered on a raw socket, up to the end of its JSON error body."""
    reply = b""
    while b"}}" not in reply:
        part = conn.recv(65536)
        if not part:
            break
        reply += part
    return reply


def send_chunked_until_answered(url: str, key: str, limit_bytes: int):
    """A real chunked upload (no Content-Length) of up to ``limit_bytes`` of JSON-ish text, 64 KB
    a chunk, stopping as soon as the server answers; (status, body, bytes sent before the answer)."""
    import select

    host, port = url.removeprefix("http://").split(":")
    chunk = b"[" + b"1," * 32_000 + b"1"
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /v1/outcomes HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        try:
            while sent < limit_bytes:
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
                if select.select([conn], [], [], 0)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = read_reply(conn)
    head, _, body = reply.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        body = body.split(b"\r\n", 1)[1]
    return int(head.split()[1]), json.loads(body[: body.rindex(b"}") + 1]), sent


def test_a_chunked_body_is_refused_at_the_limit_not_read_whole(data):
    """Trust pass 3: a body sent without Content-Length is counted as it arrives; the server
    answers 413 once it passes 4 MB and reads no more (the client had 64 MB to send)."""
    folder, keys = data
    with serving(folder) as (url, _):
        status, body, sent = send_chunked_until_answered(url, keys["reporter"], 64 * 1024 * 1024)
        assert (status, body["error"]["code"]) == (413, "too_large") and "over 4 MB" in body["error"]["message"]
        assert sent < 16 * 1024 * 1024       # 4 MB read, the rest of what was sent sat in socket buffers
        small = json.dumps({"event_id": "x" * 35, "played": True}).encode()
        assert raw(url, "/v1/outcomes", small, keys["reporter"])[0] in (200, 404, 422)   # still serving


def test_keys_scopes_and_every_refusal_as_json(data):
    folder, keys = data
    good = json.dumps({"member": {"id": "m1", "tastes": {"genre:romance": 0.7}}, "titles": [1, 2]}).encode()
    with serving(folder) as (url, _):
        status, _, body = raw(url, "/v1/decide", good, keys["backend"], content_type="text/plain")
        assert status == 200 and len(body["decisions"]) == 2        # a JSON body is read whatever its type says
        cases = [
            (raw(url, "/v1/decide", good), 401, "missing_key", "no API key"),
            (raw(url, "/v1/decide", good, "adk_000000000000_" + "x" * 43), 401, "invalid_key", "not valid"),
            (raw(url, "/v1/decide", good, forged(keys["backend"])), 401, "invalid_key", "not valid"),
            (raw(url, "/v1/decide", good, keys["reporter"]), 403, "wrong_scope", "may not call decide"),
            (raw(url, "/v1/decide", b"{not json", keys["backend"]), 400, "not_json", "not JSON"),
            (raw(url, "/v1/decide", b"[" * 200_000 + b"]" * 200_000, keys["backend"]), 400, "not_json", "not JSON"),
            (raw(url, "/v1/decide", rb'{"member": {"id": "m\u202e1", "device": "tv\u0000"}, "titles": [1]}',
                 keys["backend"]), 422, "invalid_request", "member.device: printable text only"),
            (raw(url, "/v1/decide", b'{"member": {"id": ""}, "titles": [1]}', keys["backend"]), 422,
             "invalid_request", "member.id: String should have at least 1 character"),
            (raw(url, "/v1/decide", b'{"member": {"id": "    "}, "titles": [1]}', keys["backend"]), 422,
             "invalid_request", "member.id: a member id is needed, not only spaces"),
            (announce_big_body(url, keys["backend"]), 413, "too_large", "over 4 MB"),
            (raw(url, "/v2/whatever", None), 404, "not_found", "see /docs"),
            (raw(url, "/v1/outcomes", b'{"event_id": "x"}', keys["backend"]), 422, "invalid_request",
             "played: Field required"),
        ]
        for (status, _, body), want_status, code, words in cases:
            assert (status, body["error"]["code"]) == (want_status, code), body
            assert words in body["error"]["message"]
        # over its rate limit: 429 with Retry-After, and the key works again a moment later
        answers = [raw(url, "/v1/decide", good, keys["slow"]) for _ in range(8)]
        limited = [a for a in answers if a[0] == 429]
        assert limited and all(a[0] in (200, 429) for a in answers)
        assert int(limited[0][1]["retry-after"]) >= 1 and "over its limit of 3" in limited[0][2]["error"]["message"]
        time.sleep(1.1)
        assert raw(url, "/v1/decide", good, keys["slow"])[0] == 200
        time.sleep(0.7)                                     # a refresh writes when each key was last used
        # a revoked key is refused from the service's next refresh, without a restart
        assert raw(url, "/v1/decide", good, keys["to revoke"])[0] == 200
        ws = Workspace.open(make_settings(folder.parent))
        with ws.transaction() as s:
            revoke_key(s, "local-admin", "to revoke")
            used = {k.name: k.last_used_at for k in list_keys(s)}
        ws.close()
        assert used["backend"] is not None and used["reporter"] is None   # its only call was refused
        time.sleep(1.5)
        status, _, body = raw(url, "/v1/decide", good, keys["to revoke"])
        assert status == 401 and body["error"]["code"] == "invalid_key"
        docs = raw(url, "/openapi.json", None)[2]
        assert {"/v1/decide", "/v1/outcomes", "/v1/health", "/v1/policy"} <= set(docs["paths"])
        assert "MemberIn" in docs["components"]["schemas"]
        # every answer has its model in the document, and the answers sent match them
        answered = {"/v1/decide": ("post", "DecideOut", raw(url, "/v1/decide", good, keys["backend"])),
                    "/v1/outcomes": ("post", "OutcomesOut", raw(url, "/v1/outcomes", b'{"event_id": "nope", '
                                                            b'"played": false}', keys["backend"])),
                    "/v1/health": ("get", "HealthOut", raw(url, "/v1/health", None)),
                    "/v1/policy": ("get", "PolicyOut", raw(url, "/v1/policy", None, keys["backend"]))}
        for path, (method, model, (status, _, body)) in answered.items():
            content = docs["paths"][path][method]["responses"]["200"]["content"]["application/json"]
            assert content["schema"]["$ref"].endswith("/" + model) and status == 200, (path, body)
            getattr(schema, model).model_validate(body)
        refusal = docs["paths"]["/v1/decide"]["post"]["responses"]["401"]["content"]["application/json"]
        assert refusal["schema"]["$ref"].endswith("/ErrorOut")


def test_parallel_clients_get_every_decision_logged_once(data):
    folder, keys = data
    results: list[list[str]] = []
    with serving(folder) as (url, _):
        client = HttpClient(url, keys["backend"])

        def member(n: int) -> None:
            events = []
            for i in range(40):
                answer = client.decide({"id": f"m{n}-{i}", "tastes": {"genre:comedy": 0.5}}, [1, 2, 3])
                events += [d["event_id"] for d in answer["decisions"]]
                client.outcome(events[-1], played=i % 2 == 0, play_seconds=600 if i % 2 == 0 else 0)
            results.append(events)

        threads = [threading.Thread(target=member, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        health = client.health()
    events = [e for r in results for e in r]
    assert len(results) == 8 and len(events) == len(set(events)) == 8 * 40 * 3
    assert health["counters"]["decisions"] == len(events) and health["counters"]["outcomes"] == 8 * 40
    engine = create_engine(f"sqlite:///{folder / 'artdash.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(decisions)).scalar_one() == len(events)
    engine.dispose()


def test_a_killed_service_loses_no_acknowledged_decision(data):
    folder, keys = data
    acknowledged: list[str] = []
    stop = threading.Event()
    with serving(folder, "--no-learn") as (url, proc):
        client = HttpClient(url, keys["backend"], timeout=5)

        def traffic(n: int) -> None:
            i = 0
            while not stop.is_set():
                try:
                    answer = client.decide({"id": f"k{n}-{i}"}, [1, 2, 3])
                except (OSError, ServiceError):
                    return                          # the service is gone: this answer never came
                acknowledged.extend(d["event_id"] for d in answer["decisions"])
                i += 1

        threads = [threading.Thread(target=traffic, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        while len(acknowledged) < 600:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)         # no shutdown, no flush: a crash
        proc.wait(10)
        stop.set()
        for t in threads:
            t.join(10)
    # every acknowledged decision is in the dead worker's journal; the service, started again,
    # takes it into the results store before it answers anything
    assert list((folder / "journal").glob("*.journal"))
    with serving(folder, "--no-learn") as (url, _):
        engine = create_engine(f"sqlite:///{folder / 'artdash.db'}")
        with engine.connect() as conn:
            stored = set(conn.execute(select(decisions.c.event_id)).scalars())
    engine.dispose()
    assert len(acknowledged) >= 600 and not set(acknowledged) - stored


def test_an_answer_cut_short_is_a_service_error_not_a_crash_of_the_client():
    """A server that dies mid-answer (headers sent, body cut) on the first try and on the
    client's retry: the client says so, as a ServiceError the caller already handles, instead of
    http.client's IncompleteRead."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(2)
        port = server.getsockname()[1]

        def answer_half() -> None:
            for _ in range(2):              # the call, and the client's one retry
                cut_short()

        def cut_short() -> None:
            conn, _ = server.accept()
            request = b""
            while b"\r\n\r\n" not in request:               # the whole request, so the close is clean
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 675\r\n\r\n{\"dec")
            conn.close()

        thread = threading.Thread(target=answer_half)
        thread.start()
        with pytest.raises(ServiceError) as cut:
            HttpClient(f"http://127.0.0.1:{port}", "k", timeout=5).decide({"id": "m"}, [1])
        thread.join(5)
    assert cut.value.code == "connection_lost" and "cut short" in str(cut.value)
