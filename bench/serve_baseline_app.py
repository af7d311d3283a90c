"""The baseline of bench/serve.py: a bare FastAPI endpoint that returns a fixed JSON answer of
the same shape and size as a real /v1/decide answer (no auth, no policy, no log). Run with
uvicorn exactly as `artdash serve` runs (one process, the same settings)."""

from __future__ import annotations

import json
import os

from fastapi import FastAPI, Request

ANSWER = json.loads(os.environ.get("BENCH_ANSWER", '{"decisions": []}'))
app = FastAPI()


@app.post("/v1/decide")
async def decide(request: Request) -> dict:
    json.loads(await request.body())   # read and parse the body, as the service does
    return ANSWER
