"""The baseline for bench/http_overhead.py: a bare FastAPI app, no middleware.

`GET /health` returns the JSON object in BENCH_HEALTH_JSON (the real service's /health body);
every other path gets a 404 with the JSON in BENCH_NOT_FOUND_JSON (the service's problem+json
404 body), through one plain exception handler. Served the way `paperworks serve` serves.

    BENCH_HEALTH_JSON='{"status":"ok"}' python bench/bare_app.py --port 8001
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

HEALTH: dict[str, Any] = json.loads(os.environ.get("BENCH_HEALTH_JSON", '{"status": "ok"}'))
NOT_FOUND: dict[str, Any] = json.loads(os.environ.get("BENCH_NOT_FOUND_JSON", '{"status": 404}'))

app = FastAPI()


@app.exception_handler(HTTPException)
async def not_found(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse(
        NOT_FOUND, status_code=exc.status_code, media_type="application/problem+json"
    )


@app.get("/health")
async def health() -> dict[str, Any]:
    return HEALTH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        workers=1,
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
