"""A local RLM: the real service's /health, /process-full (v1) and /process-full-v2, with faults.

Served by uvicorn on 127.0.0.1 and a free port. It starts no work: it answers as the real service
does and keeps the log lines the real service would write.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from cutover.loopback import serve
from cutover.scenarios.model import Rlm
from cutover.timeutil import iso, utc_now


@dataclass
class SimulatorLog:
    """The lines the real RLM would have logged, in order."""

    lines: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, message: str) -> None:
        with self._lock:
            self.lines.append(f"{iso(utc_now())} {message}")


def build_app(faults: Rlm, log: SimulatorLog) -> Starlette:
    """The ASGI app; `faults` switches what a scenario breaks."""

    async def health(request: Request) -> JSONResponse:
        if faults.health == "unavailable":
            detail = "Processor modules unavailable: No module named 'processors'"
            return JSONResponse({"detail": detail}, status_code=503)
        return JSONResponse(
            {
                "status": "healthy" if faults.health == "healthy" else "ok",
                "service": "soulprint-rlm",
                "rlm_available": True,
                "bedrock_available": True,
                "timestamp": iso(utc_now()),
                "processors_available": faults.health != "processors-false",
            }
        )

    async def process_full(request: Request) -> JSONResponse:
        if faults.v1_removed:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        body = await _json(request)
        if "user_id" not in body:  # FastAPI's validation: nothing starts without a body
            return JSONResponse({"detail": "user_id is required"}, status_code=422)
        user_id = body["user_id"]
        log.write(f"[DEPRECATED] /process-full called by user {user_id}")
        headers: dict[str, str] = {}
        if faults.deprecation:
            headers["Deprecation"] = "true"
        if faults.sunset is not None:
            headers["Sunset"] = faults.sunset
        if faults.link:
            headers["Link"] = '</process-full-v2>; rel="alternate"'
        return JSONResponse(
            {
                "status": "processing",
                "user_id": user_id,
                "deprecation_notice": "This endpoint is deprecated; use /process-full-v2. "
                f"It will be removed after {faults.sunset or 'the sunset date'}.",
            },
            headers=headers,
        )

    async def process_full_v2(request: Request) -> JSONResponse:
        body = await _json(request)
        if "user_id" not in body:
            return JSONResponse({"detail": "user_id is required"}, status_code=422)
        if "storage_path" not in body:
            return JSONResponse({"detail": "storage_path is required"}, status_code=400)
        log.write(f"[v2] Received process-full-v2 request for user {body['user_id']}")
        return JSONResponse(
            {
                "status": "processing",
                "version": "v2",
                "user_id": body["user_id"],
                "job_id": str(uuid.uuid4()),
            }
        )

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/process-full", process_full, methods=["POST"]),
            Route("/process-full-v2", process_full_v2, methods=["POST"]),
        ]
    )


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass(frozen=True, slots=True)
class RunningSimulator:
    url: str
    log: SimulatorLog


@contextmanager
def serve_simulator(faults: Rlm, *, startup_timeout: float = 10.0) -> Iterator[RunningSimulator]:
    """Run the simulator on 127.0.0.1 in a thread; stop it on exit."""
    log = SimulatorLog()
    with serve(
        build_app(faults, log), name="rlm-simulator", startup_timeout=startup_timeout
    ) as url:
        yield RunningSimulator(url=url, log=log)
