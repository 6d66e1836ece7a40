"""The FastAPI application: thin routes over the services."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tocsin import __version__
from tocsin.engine.runtime import Runtime
from tocsin.web import (
    action_items_api,
    api,
    bundles,
    calendars,
    changes,
    errors,
    health,
    heartbeats,
    heartbeats_api,
    incidents_api,
    integrations,
    links,
    maintenance_api,
    metrics_api,
    opsgenie,
    pages_api,
    postmortems_api,
    reports,
    routes_api,
    schedules,
    slack_inbound,
    statuspage,
    statuspage_host,
    surveys,
    twilio_inbound,
    ui,
)


def create_app(runtime: Runtime, *, engine_required: bool = True) -> FastAPI:
    app = FastAPI(title="Tocsin", version=__version__, docs_url="/docs", redoc_url=None)
    errors.install(app)
    app.include_router(integrations.build_router(runtime))
    app.include_router(opsgenie.build_router(runtime))
    app.include_router(heartbeats.build_router(runtime))
    app.include_router(changes.build_router(runtime))
    app.include_router(api.build_router(runtime))
    app.include_router(pages_api.build_router(runtime))
    app.include_router(incidents_api.build_router(runtime))
    app.include_router(action_items_api.build_router(runtime))
    app.include_router(postmortems_api.build_router(runtime))
    app.include_router(routes_api.build_router(runtime))
    app.include_router(maintenance_api.build_router(runtime))
    app.include_router(heartbeats_api.build_router(runtime))
    for router in statuspage.build_routers(runtime):
        app.include_router(router)
    app.add_middleware(statuspage_host.OwnHost, runtime=runtime)
    app.include_router(links.build_router(runtime))
    app.include_router(bundles.build_router(runtime))
    app.include_router(surveys.build_router(runtime))
    app.include_router(twilio_inbound.build_router(runtime))
    app.include_router(slack_inbound.build_router(runtime))
    app.include_router(ui.build_router(runtime))
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(calendars.build_router(runtime))
    app.include_router(reports.build_router(runtime))
    app.include_router(metrics_api.build_router(runtime))
    app.include_router(schedules.build_router(runtime))
    app.include_router(health.build_router(runtime, engine_required=engine_required))
    app.state.runtime = runtime
    return app
