"""Error texts normalised into signatures, and signatures classified systemic or user-specific."""

from __future__ import annotations

import dataclasses

import pytest

from cutover.criteria.signatures import Signature, classify, signature
from cutover.profile import Profile

PROFILE = Profile()
USER_A = "123e4567-e89b-12d3-a456-426614174000"
USER_B = "9F1C2D3E-4B5A-6C7D-8E9F-0A1B2C3D4E5F"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"no export for user {USER_A}", "no export for user <id>"),
        (f"no export for user {USER_B}", "no export for user <id>"),
        ("TimeoutError: after 120.5s and 3 retries", "TimeoutError: after <n>s and <n> retries"),
        ("cannot open user-imports/test/raw-1.json", "cannot open <path>"),
        ("KeyError: 'conversations'", "KeyError: <str>"),
        ('ValueError: bad value "x y 42"', "ValueError: bad value <str>"),
        ("at 0xDEADbeef", "at <hex>"),
        ("sha abcdef0123456789abcdef failed", "sha <hex> failed"),
        ("  spaced \t out\n text  ", "spaced out text"),
        ("", "<empty>"),
    ],
)
def test_normalisation(text: str, expected: str) -> None:
    assert signature(text) == expected


def test_older_rlm_prefix_is_dropped() -> None:
    bare = "TimeoutError: Request timed out after 300s"
    assert signature(f"Pipeline failed: {bare}") == signature(bare)
    assert signature(f"Pipeline failed: {bare}") == "TimeoutError: Request timed out after <n>s"
    # only as a prefix
    assert signature("Step: Pipeline failed: x").startswith("Step: Pipeline failed:")


def test_the_same_error_for_different_users_has_one_signature() -> None:
    one = f"Pipeline failed: FileNotFoundError: user-imports/{USER_A}/raw-1738490000000.json"
    two = f"FileNotFoundError: user-imports/{USER_B}/raw-1738490123456.json"
    assert signature(one) == signature(two)


def test_long_texts_are_cut() -> None:
    assert len(signature("x" * 600)) == 200


def test_user_specific_patterns_never_count() -> None:
    # even when it hits many users and mentions a systemic word
    rows = [("ValueError: bad file format (timeout while parsing)", 40, 40)]
    [sig] = classify(rows, PROFILE)
    assert sig.kind == "user"


@pytest.mark.parametrize(
    "text",
    [
        "Pipeline failed: RuntimeError: No API key configured",
        "RateLimitError: Rate limit exceeded",
        "anthropic.APIStatusError: Overloaded",
        "TimeoutError: timed out",
        "Processor modules unavailable: No module named x",
    ],
)
def test_profile_systemic_patterns_count_with_one_user(text: str) -> None:
    [sig] = classify([(text, 1, 1)], PROFILE)
    assert sig.kind == "systemic"


def test_profile_patterns_come_from_the_profile() -> None:
    custom = dataclasses.replace(PROFILE, systemic_error_patterns=("disk full",))
    [sig] = classify([("OSError: disk full", 1, 1)], custom)
    assert sig.kind == "systemic"
    [default] = classify([("OSError: disk full", 1, 1)], PROFILE)
    assert default.kind == "unclassified"


def test_unknown_signature_at_systemic_min_users_counts() -> None:
    n = PROFILE.systemic_min_users
    [sig] = classify([("KeyError: 'conversations'", n, n)], PROFILE)
    assert sig == Signature("KeyError: <str>", n, n, "systemic")


def test_unknown_signature_below_systemic_min_users_does_not() -> None:
    n = PROFILE.systemic_min_users - 1
    [sig] = classify([("KeyError: 'conversations'", 5, n)], PROFILE)
    assert sig.kind == "unclassified"


def test_rows_of_one_signature_are_summed_before_classifying() -> None:
    rows = [
        (f"Pipeline failed: KeyError: user {USER_A}", 1, 1),
        (f"KeyError: user {USER_B}", 2, 2),
        ("ValueError: bad file format", 9, 9),
    ]
    sigs = classify(rows, PROFILE)
    assert sigs == [
        Signature("ValueError: bad file format", 9, 9, "user"),
        Signature("KeyError: user <id>", 3, 3, "systemic"),
    ]


def test_numeric_profile_pattern_matches_the_raw_text() -> None:
    """'429' would be normalised to '<n>'; patterns are matched on the raw text as well."""
    [found] = classify([("HTTP 429 Too Many Requests", 5, 1)], Profile())
    assert found.kind == "systemic"


def test_a_storage_path_holding_a_uuid_becomes_one_path() -> None:
    text = "Bad file user-imports/3f2a8c1e-1111-4a4a-8b8b-123456789abc/raw-17.json"
    assert signature(text) == "Bad file <path>"
