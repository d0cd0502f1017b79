"""The paged platform reader: waits out a 429 as the platform says, retries a 5xx, stops at the
deadline, and names the endpoint but never the query or the token (respx stands in for the
platform; the clock is simulated, so waiting costs nothing)."""

from __future__ import annotations

import httpx
import pytest
import respx

from cutover.errors import SourceUnavailable
from cutover.profile import Profile
from cutover.redact import register_secret
from cutover.sources.http import Budget, Pacing, get_json, rate_limit_wait

URL = "https://api.example.test/v1/logs"
CAP = Profile().platform_max_page_bytes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(clock: Clock, deadline: float = 300.0, retries: int = 3) -> Budget:
    return Budget(Pacing(deadline, 5.0, retries, clock=clock, sleep=clock.sleep))


def get(b: Budget, **params: object) -> object:
    headers = {"Authorization": "Bearer k"}
    return get_json(URL, params=params, headers=headers, budget=b, source="t", max_bytes=CAP)


@respx.mock
def test_a_429_waits_until_the_reset_the_platform_gives() -> None:
    route = respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Ratelimit-Reset": "30", "Ratelimit-Remaining": "0"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    clock = Clock()
    b = budget(clock)
    assert get(b) == {"ok": True}
    assert clock.slept == [30.0] and route.call_count == 2 and b.requests == 2


@respx.mock
def test_retry_after_wins_over_ratelimit_reset() -> None:
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7", "Ratelimit-Reset": "30"}),
            httpx.Response(200, json=[]),
        ]
    )
    clock = Clock()
    get(budget(clock))
    assert clock.slept == [7.0]


@respx.mock
def test_no_request_left_pauses_the_next_one_until_the_reset() -> None:
    respx.get(URL).mock(
        return_value=httpx.Response(
            200, json=[], headers={"Ratelimit-Remaining": "0", "Ratelimit-Reset": "12"}
        )
    )
    clock = Clock()
    b = budget(clock)
    get(b)
    assert clock.slept == []
    get(b)
    assert clock.slept == [12.0]


@respx.mock
def test_rate_limited_past_the_deadline_is_unavailable_not_waited_out() -> None:
    respx.get(URL).mock(return_value=httpx.Response(429, headers={"Ratelimit-Reset": "600"}))
    clock = Clock()
    with pytest.raises(SourceUnavailable, match=r"429: waiting 600 s more would pass the 300 s"):
        get(budget(clock))
    assert clock.slept == []


@respx.mock
def test_a_5xx_is_retried_with_a_doubling_pause() -> None:
    respx.get(URL).mock(
        side_effect=[httpx.Response(502), httpx.Response(503), httpx.Response(200, json=1)]
    )
    clock = Clock()
    assert get(budget(clock)) == 1
    assert clock.slept == [0.5, 1.0]


@respx.mock
def test_a_5xx_past_the_retries_names_the_status_and_the_endpoint() -> None:
    respx.get(URL).mock(return_value=httpx.Response(500, json={"message": "internal"}))
    with pytest.raises(SourceUnavailable) as info:
        get(budget(Clock(), retries=2), text="OOMKilled")
    assert str(info.value) == f"t: GET {URL} answered 500: internal"


@respx.mock
def test_a_refused_token_says_what_the_platform_said_without_the_token() -> None:
    register_secret("rnd_Sup3rSecretKey")
    respx.get(URL).mock(
        return_value=httpx.Response(401, json={"message": "invalid key rnd_Sup3rSecretKey"})
    )
    with pytest.raises(SourceUnavailable) as info:
        get(budget(Clock()))
    assert "answered 401: invalid key ***" in str(info.value)
    assert "Sup3r" not in str(info.value)


@respx.mock
def test_a_truncated_page_is_not_json_and_fails() -> None:
    respx.get(URL).mock(return_value=httpx.Response(200, content=b'{"hasMore": true, "logs": [{'))
    with pytest.raises(SourceUnavailable, match=r"body is not JSON \(first bytes"):
        get(budget(Clock()))


@respx.mock
def test_a_list_parameter_repeats_its_key() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(200, json={}))
    get(budget(Clock()), text=["a b", "c"], limit=100)
    assert route.calls.last.request.url.query == b"text=a+b&text=c&limit=100"


@respx.mock
def test_no_answer_is_retried_then_unavailable() -> None:
    respx.get(URL).mock(side_effect=httpx.ConnectError("connection refused"))
    clock = Clock()
    with pytest.raises(SourceUnavailable, match=r"GET https://api.example.test/v1/logs: no answer"):
        get(budget(clock, retries=2))
    assert clock.slept == [0.5, 1.0]


def test_rate_limit_headers_read_as_seconds() -> None:
    assert rate_limit_wait(httpx.Headers({"Retry-After": "3"})) == 3.0
    assert rate_limit_wait(httpx.Headers({"Ratelimit-Reset": "-4"})) == 0.0
    assert rate_limit_wait(httpx.Headers({"Retry-After": "soon"})) is None
    assert rate_limit_wait(httpx.Headers({})) is None
