"""The FastAPI application: thin routes over the services."""

from __future__ import annotations

from fastapi import FastAPI

from tocsin import __version__
from tocsin.engine.runtime import Runtime
from tocsin.web import api, errors, health, integrations, links


def create_app(runtime: Runtime, *, engine_required: bool = True) -> FastAPI:
    app = FastAPI(title="Tocsin", version=__version__, docs_url="/docs", redoc_url=None)
    errors.install(app)
    app.include_router(integrations.build_router(runtime))
    app.include_router(api.build_router(runtime))
    app.include_router(links.build_router(runtime))
    app.include_router(health.build_router(runtime, engine_required=engine_required))
    app.state.runtime = runtime
    return app
