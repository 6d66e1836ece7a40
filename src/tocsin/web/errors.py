"""The one place where errors become HTTP answers.

A `TocsinError` is safe to show: its code, message and fields go to the
client. Anything else is logged with its stack and answered with a plain
500 carrying a request id to find it in the log.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tocsin.errors import FieldProblem, TocsinError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: list[FieldProblem] | None = None) -> dict[
    str, object
]:
    return {"error": {"code": code, "message": message,
                      "fields": [{"path": f.path, "message": f.message} for f in fields or []]}}


def install(app: FastAPI) -> None:
    @app.exception_handler(TocsinError)
    async def tocsin_error(_request: Request, exc: TocsinError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.fields), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        fields = [
            FieldProblem(".".join(str(p) for p in err.get("loc", ())), str(err.get("msg", "")))
            for err in errors
        ]
        # Worded as the endpoints that read their body themselves say it (web.body).
        unreadable = [err for err in errors if err.get("type") == "json_invalid"]
        message = "the request is invalid"
        if unreadable:
            why = (unreadable[0].get("ctx") or {}).get("error", "")
            message = f"body is not valid JSON: {why}" if why else "body is not valid JSON"
        return JSONResponse(error_body("invalid_input", message, fields), status_code=400)

    @app.exception_handler(OverflowError)
    async def out_of_range(_request: Request, _exc: OverflowError) -> JSONResponse:
        # Only calendar arithmetic on a time a client sent overflows here.
        return JSONResponse(error_body(
            "invalid_input", "a time in the request is too far from today for the calendar; "
            "use times between years 2 and 9998"), status_code=400)

    @app.exception_handler(OperationalError)
    async def database_busy(_request: Request, exc: OperationalError) -> JSONResponse:
        # The store is busy or away: the sender retries on 503, nothing is lost.
        log.error("http.database_unavailable %s", type(exc.orig).__name__)
        return JSONResponse(error_body("unavailable", "the database is busy; retry shortly"),
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(IntegrityError)
    async def lost_race(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Writers that kept losing a race for the same rows after their retries:
        # contention, not a bad request. A sender retries on 503; nothing is lost.
        log.error("http.write_conflict %s", type(exc.orig).__name__)
        return JSONResponse(error_body("unavailable", "a concurrent write to the same alerts "
                                       "won; retry shortly"),
                            status_code=503, headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex[:12]
        log.error("http.unexpected_error request_id=%s", request_id, exc_info=exc)
        return JSONResponse(
            error_body("internal", f"internal error; request id {request_id}"), status_code=500
        )
