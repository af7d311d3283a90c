"""The API's documentation pages, offline: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with
their scripts, styles and icon served by the service itself from a registry package
(``fastapi-offline`` ships the files), never from a CDN — FastAPI's defaults load three outside
hosts and stay blank on a machine without the internet. ReDoc's web fonts are left out (it
falls back to the system's), and the Redocly logo its menu fetches from a CDN is replaced by
the service's own icon."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

ASSETS = "/docs-assets"
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


def assets_folder() -> Path:
    """Where the installed package keeps Swagger UI's and ReDoc's files."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the fastapi-offline package is missing: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@functools.cache
def redoc_script() -> bytes:
    """ReDoc's script with its one outside address (its menu's logo) pointing at our icon."""
    return (assets_folder() / "redoc.standalone.js").read_bytes().replace(REDOC_CDN_LOGO,
                                                                         f"{ASSETS}/favicon.png".encode())


def add_offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` (create the app with ``docs_url=None, redoc_url=None``)."""

    @app.get(f"{ASSETS}/redoc.standalone.js", include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.mount(ASSETS, StaticFiles(directory=assets_folder()), name="docs-assets")
    title = f"{app.title} — API"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=title,
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=title,
                              redoc_js_url=f"{ASSETS}/redoc.standalone.js", redoc_favicon_url=f"{ASSETS}/favicon.png",
                              with_google_fonts=False)


__all__ = ["ASSETS", "add_offline_docs", "assets_folder"]
