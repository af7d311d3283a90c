"""The decision service over HTTP (FastAPI): ``/v1/decide``, ``/v1/outcomes``, ``/v1/health``,
``/v1/policy``; OpenAPI docs at ``/docs``.

Every refused request gets a JSON body ``{"error": {"code": …, "message": …}}`` with the
status that fits (401 no or bad key, 403 wrong scope, 422 a malformed body, 429 over the
key's rate limit with ``Retry-After``, 503 the log cannot be written). Handlers are async: the
decision is computed on the event loop (it takes well under a millisecond) and the request
waits for the group commit that logs it without holding a thread.
"""

from __future__ import annotations

import asyncio
import math
import os
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from artdash.serve.batching import LoopBatcher
from artdash.serve.docs_pages import add_offline_docs
from artdash.serve.schema import (
    DecideIn,
    DecideOut,
    ErrorOut,
    HealthOut,
    OutcomeIn,
    OutcomesIn,
    OutcomesOut,
    PolicyOut,
    error_message,
)
from artdash.serve.service import DecisionService
from artdash.serve.settings import ServiceError, ServiceSettings, unavailable

MAX_BODY_BYTES = 4 * 1024 * 1024


class FastJSON(JSONResponse):
    """JSON by orjson (the answers are plain dicts, lists, numbers and text)."""

    def render(self, content) -> bytes:
        """``content`` as JSON bytes."""
        return orjson.dumps(content)


def _json(content: dict) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _answers(model, *refusals: int) -> dict:
    """The OpenAPI ``responses`` of an endpoint: ``model`` on success, the error body otherwise."""
    return {200: {"model": model}, **{status: {"model": ErrorOut} for status in refusals}}


def _error(status: int, code: str, message: str, retry_after: float | None = None) -> JSONResponse:
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after is not None else None
    return FastJSON({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_COMPONENTS: dict[str, dict] = {}


def _body(*models) -> dict:
    """The request body's schema for the OpenAPI docs (bodies are parsed by hand, after the key
    is checked, so a request without a key is refused before its body is read)."""
    schemas = [m.model_json_schema(ref_template="#/components/schemas/{model}") for m in models]
    for schema in schemas:
        _COMPONENTS.update(schema.pop("$defs", {}))
    schema = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key") or None


class BodyLimit:
    """Refuses a request whose announced body is over the limit before any of it is read (a
    plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` would cost every request a task)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on, unless its Content-Length is over the limit or not a number; a
        body without one (chunked) is counted as it arrives and refused at the limit — the rest
        is never read."""
        if scope["type"] == "http":
            length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
                await _error(413, "too_large", TOO_LARGE)(scope, receive, send)
                return
            if length is None:
                receive = _counted(receive)
        await self.app(scope, receive, send)


TOO_LARGE = f"the body is over {MAX_BODY_BYTES // 1024 // 1024} MB; send smaller batches"


def _counted(receive):
    """``receive`` that raises ServiceError 413 once the body's bytes pass the limit."""
    seen = 0

    async def counting():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise ServiceError(413, "too_large", TOO_LARGE)
        return message

    return counting


SETTINGS_ENV = "ARTDASH_SERVE_SETTINGS"


def app_from_environment() -> FastAPI:
    """One worker's application (``artdash serve --workers N``): its own service over the
    workspace of the ARTDASH_* settings, with the service settings its parent passed (JSON in
    ``ARTDASH_SERVE_SETTINGS``); the service is closed (its journal taken into the store) when
    the worker shuts down."""
    from artdash.config import Settings
    from artdash.workspace import Workspace

    ws = Workspace.open(Settings.from_env(), trusted=True)
    settings = ServiceSettings(**orjson.loads(os.environ.get(SETTINGS_ENV, "{}")))
    return create_app(DecisionService(ws, settings), close_on_shutdown=True)


def create_app(service: DecisionService, close_on_shutdown: bool = False) -> FastAPI:
    """The FastAPI application over ``service`` (closed with the application if
    ``close_on_shutdown``)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        if close_on_shutdown:
            service.close()

    app = FastAPI(title="ArtDash decision service", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Which artwork to show a member, with its propensity; what the member did. "
                              "Send the API key as `Authorization: Bearer <key>`.")
    add_offline_docs(app)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, e: ServiceError) -> JSONResponse:
        return _error(e.status, e.code, str(e), e.retry_after)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, e: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid_request", error_message(list(e.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, e: StarletteHTTPException) -> JSONResponse:
        message = {404: "no such endpoint: see /docs for the API", 405: "this endpoint does not take that method"}
        return _error(e.status_code, "not_found" if e.status_code == 404 else "http_error",
                      message.get(e.status_code, str(e.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, e: Exception) -> JSONResponse:
        return _error(500, "internal_error", f"the service failed ({type(e).__name__}); nothing was decided")

    app.add_middleware(BodyLimit)
    batcher = LoopBatcher(service.journal.submit) if service.journal is not None else None

    async def body_of(request: Request) -> object:
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            raise ServiceError(413, "too_large", TOO_LARGE)
        try:
            return orjson.loads(raw)
        except (orjson.JSONDecodeError, RecursionError):   # not JSON, or nested too deep to read
            raise ServiceError(400, "not_json", "the body is not JSON: send a JSON object (see /docs)") from None

    @app.post("/v1/decide", summary="Which variant of each title to show a member",
              openapi_extra=_body(DecideIn), responses=_answers(DecideOut, 400, 401, 403, 413, 422, 429, 503))
    async def decide(request: Request) -> Response:
        service.authenticate(_key(request), "decide")
        decided = service.prepare(await body_of(request))
        try:
            if batcher is not None:          # gathered on the loop: one hand-over to the journal per group
                await batcher.write(service.journal_line(decided))
                service.logged(decided)
            else:
                await asyncio.wrap_future(service.log_decided(decided))
        except Exception as e:  # noqa: BLE001
            raise unavailable("decisions", e) from e
        return _json(service.answer(decided))

    @app.post("/v1/outcomes", summary="What members did: one outcome, or {\"outcomes\": [...]} (a batch)",
              openapi_extra=_body(OutcomesIn, OutcomeIn),
              responses=_answers(OutcomesOut, 400, 401, 403, 413, 422, 429, 503))
    async def outcomes(request: Request) -> Response:
        service.authenticate(_key(request), "outcomes")
        future = service.submit_outcomes(await body_of(request))
        try:
            report = await asyncio.wrap_future(future)
        except Exception as e:  # noqa: BLE001
            raise unavailable("outcomes", e) from e
        return _json(service.counted(report))

    @app.get("/v1/health", summary="Whether the service can decide, and its counters", responses=_answers(HealthOut))
    async def health() -> Response:
        return _json(service.health())

    @app.get("/v1/policy", summary="What is served, since when, by whom", responses=_answers(PolicyOut, 401, 403, 429))
    async def policy(request: Request) -> Response:
        service.authenticate(_key(request), "decide")
        return _json(service.policy_info())

    def openapi() -> dict:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(_COMPONENTS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
