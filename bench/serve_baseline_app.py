"""The baseline of bench/serve.py: a bare FastAPI endpoint that returns a fixed JSON answer of
the same shape and size as a real /v1/decide answer (no auth, no policy, no log). Run with
uvicorn exactly as `artdash serve` runs (one process, the same settings: uvloop and httptools
when installed), and given the same fast JSON (orjson) to parse the body and write the answer."""

from __future__ import annotations

import os

import orjson
from fastapi import FastAPI, Request, Response

ANSWER = orjson.loads(os.environ.get("BENCH_ANSWER", '{"decisions": []}'))
app = FastAPI()


@app.post("/v1/decide")
async def decide(request: Request) -> Response:
    orjson.loads(await request.body())   # read and parse the body, as the service does
    return Response(orjson.dumps(ANSWER), media_type="application/json")


@app.post("/v1/outcomes")
async def outcomes(request: Request) -> Response:
    body = orjson.loads(await request.body())   # parse only: the floor for outcome ingest
    return Response(orjson.dumps({"accepted": len(body.get("outcomes", [body]))}), media_type="application/json")
