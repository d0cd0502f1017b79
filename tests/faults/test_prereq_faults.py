"""The fault matrix on the prerequisites: a live-mode run whose prerequisites all pass (the RLM
simulator, a `vercel env pull` file saying 0%, the seeded database), then one fault at a time in
the RLM's HTTP answers or the env file. The checks are those of test_stage1_faults."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import socketserver
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from psycopg.conninfo import conninfo_to_dict
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from world import Case, Fault, Gate, World, assert_fails_closed, live_world, run_case

from cutover.loopback import free_port, serve

GATE = Gate("prereq", ("tests/prereqs",), "2026-02-02T08:00:00Z")
HEALTH = ("prereq.rlm_health",)
HEADERS = ("prereq.deprecation_headers",)
ROLLOUT = ("prereq.rollout_percent_zero",)
HEALTHY = {
    "status": "healthy",
    "service": "soulprint-rlm",
    "rlm_available": True,
    "bedrock_available": True,
    "timestamp": "2026-02-02T08:00:00Z",
    "processors_available": True,
}


async def _trickle() -> AsyncIterator[bytes]:
    for _ in range(40):  # 8 s of one byte at a time: each read is quick, the whole is not
        yield b" "
        await asyncio.sleep(0.2)
    yield b"{}"


def _health(request: Request) -> Response:
    mode = request.path_params["mode"]
    answers: dict[str, Response] = {
        "status-500": JSONResponse({"detail": "Internal Server Error"}, status_code=500),
        "html": Response("<html><body>Bad Gateway</body></html>", media_type="text/html"),
        "array": JSONResponse([HEALTHY]),
        "no-processors": JSONResponse({k: v for k, v in HEALTHY.items() if "processors" not in k}),
        "processors-false": JSONResponse({**HEALTHY, "processors_available": False}),
        "empty-body": Response(b"", media_type="application/json"),
        "huge": Response(b'{"pad": "' + b"x" * 3_000_000 + b'"}', media_type="application/json"),
        "redirect": RedirectResponse(f"http://127.0.0.1:{free_port()}/health", status_code=302),
    }
    if mode == "trickle":
        return StreamingResponse(_trickle(), media_type="application/json")
    return answers[mode]


def _process_full(request: Request) -> Response:
    mode = request.path_params["mode"]
    if mode == "v1-500":
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    return JSONResponse({"status": "processing", "user_id": "probe"})  # no deprecation at all


APP = Starlette(
    routes=[
        Route("/{mode}/health", _health, methods=["GET"]),
        Route("/{mode}/process-full", _process_full, methods=["POST"]),
    ]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with live_world(tmp_path_factory.mktemp("world"), GATE) as built:
        yield built


@pytest.fixture(scope="module")
def faulty_rlm() -> Iterator[str]:
    with serve(APP, name="faulty-rlm") as url:
        yield url


def test_the_baseline_proceeds(world: World, tmp_path: Path) -> None:
    outcome = run_case(world, tmp_path, None)
    assert outcome.run.exit_code == 0, outcome.run.output
    assert len(outcome.run.verdicts) == 6, outcome.run.output
    assert set(outcome.run.verdicts.values()) == {"pass"}, outcome.run.output
    assert outcome.verify_ok, outcome.verify_lines


FAULTY_RLM = "{faulty_rlm}"  # stands for the fault server's URL until the case runs


def _rlm(setting: str, mode: str) -> object:
    def inject(case: Case) -> None:
        case.env[setting] = f"{FAULTY_RLM}/{mode}"

    return inject


def _closed(setting: str) -> object:
    def inject(case: Case) -> None:
        case.env[setting] = f"http://127.0.0.1:{free_port()}"

    return inject


def _with_deadline(inject: object, seconds: float) -> object:
    def both(case: Case) -> None:
        inject(case)  # type: ignore[operator]
        config = case.dir / "cutover.toml"
        config.write_text(f"[profile]\nhttp_timeout_seconds = {seconds}\n", encoding="utf-8")
        case.env["CUTOVER_CONFIG"] = str(config)

    return both


def _env_file(text: str | bytes) -> object:
    def inject(case: Case) -> None:
        path = case.export(".env.local")
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return inject


def _env_file_gone(case: Case) -> None:
    case.export(".env.local").unlink()


def _env_file_directory(case: Case) -> None:
    path = case.export(".env.local")
    path.unlink()
    path.mkdir()


def _url(case: Case) -> str:
    return case.env["CUTOVER_RLM_URL"].split("/")[2]


def _local_url(case: Case) -> str:
    return case.env["CUTOVER_RLM_LOCAL_URL"].split("/")[2]


def _env_path(case: Case) -> str:
    return str(case.export(".env.local"))


def _text(text: str) -> object:
    return lambda case: text


URL, LOCAL = "CUTOVER_RLM_URL", "CUTOVER_RLM_LOCAL_URL"
FAULTS = [
    # HTTP: the production RLM's /health
    Fault("http-health-closed-port", _closed(URL), HEALTH, _url),
    Fault("http-health-500", _rlm(URL, "status-500"), HEALTH, _text("500")),
    Fault("http-health-html", _rlm(URL, "html"), HEALTH, _text("not JSON")),
    Fault("http-health-json-array", _rlm(URL, "array"), HEALTH, _text("not an object")),
    Fault(
        "http-health-no-processors-field", _rlm(URL, "no-processors"), HEALTH, _text("processors")
    ),
    Fault(
        "http-health-processors-false", _rlm(URL, "processors-false"), HEALTH, _text("processors")
    ),
    Fault("http-health-empty-body", _rlm(URL, "empty-body"), HEALTH, _text("not JSON")),
    Fault("http-health-body-over-cap", _rlm(URL, "huge"), HEALTH, _text("bytes")),
    Fault(
        "http-health-trickle-past-deadline", _with_deadline(_rlm(URL, "trickle"), 1), HEALTH, _url
    ),
    Fault("http-health-redirect-to-closed-port", _rlm(URL, "redirect"), HEALTH, _text("302")),
    # HTTP: the local RLM's v1 endpoint (deprecation headers)
    Fault("http-v1-closed-port", _closed(LOCAL), HEADERS, _local_url),
    Fault("http-v1-500", _rlm(LOCAL, "v1-500"), HEADERS, _text("500")),
    Fault(
        "http-v1-no-deprecation-headers", _rlm(LOCAL, "no-headers"), HEADERS, _text("Deprecation")
    ),
    # env file (`vercel env pull`)
    Fault(
        "env-last-value-wins",
        _env_file('V2_ROLLOUT_PERCENT="0"\nV2_ROLLOUT_PERCENT="10"\n'),
        ROLLOUT,
        _text("line 2"),
    ),
    Fault(
        "env-variable-absent",
        _env_file('RLM_API_URL="http://127.0.0.1:8000"\n'),
        ROLLOUT,
        _env_path,
    ),
    Fault(
        "env-malformed-line",
        _env_file('V2_ROLLOUT_PERCENT="0"\nno equals sign\n'),
        ROLLOUT,
        _text("line 2"),
    ),
    Fault("env-out-of-range", _env_file('V2_ROLLOUT_PERCENT="150"\n'), ROLLOUT, _env_path),
    Fault("env-empty-file", _env_file(""), ROLLOUT, _env_path),
    Fault("env-not-utf8", _env_file(b'V2_ROLLOUT_PERCENT="\xff\xfe0"\n'), ROLLOUT, _env_path),
    Fault("env-file-missing", _env_file_gone, ROLLOUT, _env_path),
    Fault("env-file-is-a-directory", _env_file_directory, ROLLOUT, _env_path),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_fault_never_passes(world: World, faulty_rlm: str, tmp_path: Path, fault: Fault) -> None:
    def inject(case: Case) -> None:
        fault.inject(case)
        for key, value in case.env.items():
            case.env[key] = value.replace(FAULTY_RLM, faulty_rlm)

    assert_fails_closed(
        run_case(
            world,
            tmp_path,
            Fault(fault.name, inject, fault.criteria, fault.names, fault.ledger_breaks),
        ),
        fault,
    )


# -- every form of DSN: the password is in no output -------------------------------------------


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def tcp_to_unix_socket(path: str) -> Iterator[int]:
    """127.0.0.1:port forwarded to the embedded server's Unix socket (it listens on no port)."""

    class Forward(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with socket.socket(socket.AF_UNIX) as upstream:
                upstream.connect(path)
                back = threading.Thread(target=_pump, args=(upstream, self.request))
                back.start()
                _pump(self.request, upstream)
                back.join()

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Forward) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server.server_address[1]
        server.shutdown()


PASSWORD = "Dsn-F0rm-S3cret-Passw0rd"
ENCODED = "p@ss/w:rd%S3cret#x"  # every character a URL must encode
DATABASE = ("prereq.migration_columns", "prereq.validation_queries", "prereq.read_only_access")
DSN_FORMS = {
    "url": ("postgresql://cutover_reader:{pw}@127.0.0.1:{port}/postgres", PASSWORD, True),
    "no-scheme": ("cutover_reader:{pw}@127.0.0.1:{port}/postgres", PASSWORD, False),
    "one-slash": ("postgresql:/cutover_reader:{pw}@127.0.0.1:{port}/postgres", PASSWORD, False),
    "keywords": (
        "host=127.0.0.1 port={port} dbname=postgres user=cutover_reader password={pw}",
        PASSWORD,
        True,
    ),
    "url-encoded": (
        "postgresql://cutover_reader:{pw}@127.0.0.1:{port}/postgres",
        quote(ENCODED, safe=""),
        True,
    ),
}


@pytest.mark.parametrize("form", sorted(DSN_FORMS))
def test_no_dsn_form_leaks_its_password(world: World, tmp_path: Path, form: str) -> None:
    """Every file the run writes (output, JUnit, ledger, report) is searched for the password,
    as written and decoded. The embedded server trusts local connections, so any password
    connects: the forms that are valid DSNs pass, the others are refused as usage errors."""
    template, password, valid = DSN_FORMS[form]
    socket_dir = conninfo_to_dict(world.admin_dsn)["host"]
    with tcp_to_unix_socket(f"{socket_dir}/.s.PGSQL.5432") as port:

        def inject(case: Case) -> None:
            case.env["CUTOVER_DATABASE_URL"] = template.format(pw=password, port=port)

        outcome = run_case(world, tmp_path, Fault(form, inject, (), lambda c: ""))
    run = outcome.run
    if valid:
        assert [run.verdicts[c] for c in DATABASE] == ["pass"] * 3, run.output
        assert run.exit_code == 0, run.output
    else:
        assert run.exit_code == 4 and "CUTOVER_DATABASE_URL" in run.output, run.output
        assert "Traceback" not in run.output
    secrets = {password, unquote(password)}
    texts = [run.output, outcome.report_output, outcome.verify_lines]
    texts += [p.read_text(errors="replace") for p in outcome.case.dir.rglob("*") if p.is_file()]
    assert not [s for s in secrets for text in texts if s in text], form
