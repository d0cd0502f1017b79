"""Error texts normalised into signatures, and signatures classified systemic or user-specific."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from cutover.criteria.signatures import Evidence, Signature, classify, signature
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


def test_an_unknown_signature_at_many_users_is_unclassified_not_systemic() -> None:
    """The long tail: an unlisted message reaching 3 (or 30) users is not evidence by itself."""
    for n in (PROFILE.systemic_min_users, 30):
        [sig] = classify([("KeyError: 'conversations'", n, n)], PROFILE)
        assert sig.kind == "unclassified"
        assert sig.rule.startswith("no rule matches")
        assert sig.command == 'cutover classify "KeyError: <str>" --as user|systemic --by NAME'


def test_unknown_signature_below_systemic_min_users_does_not() -> None:
    n = PROFILE.systemic_min_users - 1
    [sig] = classify([("KeyError: 'conversations'", 5, n)], PROFILE)
    assert sig.kind == "unclassified"


def test_rows_of_one_signature_are_summed_before_classifying() -> None:
    first, last = datetime(2026, 2, 2, 9, tzinfo=UTC), datetime(2026, 2, 2, 17, tzinfo=UTC)
    rows = [
        (f"Pipeline failed: KeyError: user {USER_A}", 1, 1, last, last),
        (f"KeyError: user {USER_B}", 2, 2, first, first),
        ("ValueError: bad file format", 9, 9, first, last),
    ]
    sigs = classify(rows, PROFILE)
    assert [(s.text, s.count, s.users, s.kind) for s in sigs] == [
        ("ValueError: bad file format", 9, 9, "user"),
        ("KeyError: user <id>", 3, 3, "unclassified"),
    ]
    assert (sigs[1].first_seen, sigs[1].last_seen) == (first, last)


def evidence(started: int, **kw: object) -> Evidence:
    return Evidence(started=started, **kw)  # type: ignore[arg-type]


def test_a_rate_over_the_limit_is_systemic_when_its_sequence_says_so() -> None:
    """'KeyError' in 60 of 1,000 imports: 6%, its sequence's lower bound over 1%."""
    [sig] = classify([("KeyError: 'mapping'", 60, 60)], PROFILE, evidence(1_000))
    assert sig.kind == "systemic"
    assert sig.rule.startswith("rate 6.00% of 1000 v2 imports") and "lies above 1%" in sig.rule
    # 3 of 1,000 (0.3%) is the long tail; 3 of 40 (7.5%) is not yet evidence either
    for started in (1_000, 40):
        [tail] = classify([("KeyError: 'mapping'", 3, 3)], PROFILE, evidence(started))
        assert tail.kind == "unclassified", started


def test_a_burst_in_one_hour_is_systemic() -> None:
    hours = [datetime(2026, 2, 2, 9, tzinfo=UTC) + timedelta(hours=h) for h in range(12)]
    by_hour = dict.fromkeys(hours, 40)
    burst = [("OSError: stale handle", hours[5], 8), ("OSError: stale handle", hours[1], 1)]
    e = evidence(480, started_by_hour=by_hour, hours=burst)
    [sig] = classify([("OSError: stale handle", 9, 9)], PROFILE, e)
    assert sig.kind == "systemic"
    assert sig.rule.startswith("burst: 8 of 40 imports in the hour from 2026-02-02T14:00:00Z")
    # the same 9 spread over the day is no burst (and 9 of 480 is not yet a rate over 1%)
    spread = [("OSError: stale handle", h, 1) for h in hours[:9]]
    [calm] = classify(
        [("OSError: stale handle", 9, 9)],
        PROFILE,
        evidence(480, started_by_hour=by_hour, hours=spread),
    )
    assert calm.kind == "unclassified"


def test_a_ledger_classification_decides_first() -> None:
    at = datetime(2026, 2, 2, 12, tzinfo=UTC)
    text = "KeyError: <str>"
    e = evidence(1_000, classified={text: ("user", "alice", at)})
    [sig] = classify([("KeyError: 'mapping'", 60, 60)], PROFILE, e)
    assert sig.kind == "user"
    assert sig.rule == "classified user by alice at 2026-02-02T12:00:00Z"
    systemic = evidence(1_000, classified={text: ("systemic", "bob", at)})
    [other] = classify([("KeyError: 'mapping'", 1, 1)], PROFILE, systemic)
    assert other.kind == "systemic"


def test_the_classify_command_quotes_for_a_shell() -> None:
    sig = Signature('a "b" $HOME `x` \\', 1, 1, "unclassified")
    assert sig.command == (
        'cutover classify "a \\"b\\" \\$HOME \\`x\\` \\\\" --as user|systemic --by NAME'
    )


#: user-side failures as the v2 pipeline words them: none may count against the pipeline
USER_SIDE = (
    f"Pipeline failed: ValueError: Unsupported export format in user-imports/{USER_A}/raw.json",
    "JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
    "json.decoder.JSONDecodeError: Unterminated string starting at: line 8812 column 15",
    "Invalid JSON in conversations file",
    "zipfile.BadZipFile: File is not a zip file",
    "ValueError: Export is not a ChatGPT export (missing conversations.json)",
    "FileNotFoundError: conversations.json not found in archive",
    "ValueError: No conversations found in export",
    "ValueError: Empty export: 0 conversations",
    "ExportTooLargeError: export is 2.3 GB, exceeds the maximum of 1 GB",
    "ValueError: File too large: 734003200 bytes (limit 524288000)",
    "pydantic_core._pydantic_core.ValidationError: 1 validation error for Conversation",
    "KeyError: 'mapping' - malformed conversation node",
    "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0",
    "ValueError: Unrecognized format: expected a ChatGPT or Claude export",
    "Unsupported file type: application/pdf",
    "ValueError: Could not parse conversation timestamps",
    "ParseError: failed to parse message content at index 42",
    "ExportFormatError: unexpected export version 3",
    "ValueError: Too many conversations: 25000 (max 20000)",
    "ValueError: Too many messages in one conversation: 150000",
    "EmptyFileError: file is empty",
    "ValueError: No messages to process after filtering",
    "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/imports/raw.json'",
    "ValueError: Invalid conversation structure: missing 'mapping'",
    "Invalid export: conversations must be a list",
    "SchemaError: schema mismatch in conversations[17]",
    "ValueError: missing required field 'create_time' in conversation 9",
    "yaml.scanner.ScannerError: malformed input",
    "json.decoder.JSONDecodeError: Unexpected end of file",
    "ValueError: Bad file format",
    "ValueError: Upload exceeds maximum size of 500 MB",
    "The uploaded file is not a valid ZIP archive",
    "Unable to parse export: unexpected token '<' at position 0",
    "ValueError: conversation 14290 has no messages",  # a count, not an HTTP 429
)

#: failures of the pipeline or what it depends on: each must be systemic
SYSTEMIC = (
    "Pipeline failed: RuntimeError: No API key configured",
    "anthropic.RateLimitError: Error code: 429 - rate_limit_error",
    "anthropic.APIStatusError: Error code: 529 - Overloaded",
    "TimeoutError: Request timed out after 300s",
    "httpx.ReadTimeout: The read operation timed out",
    "botocore.exceptions.ClientError: ThrottlingException when calling InvokeModel",
    "Processor modules unavailable: No module named 'processors.full_pass'",
    "psycopg.OperationalError: connection to server at 10.0.0.5 port 5432 failed: "
    "Connection refused",
    "ConnectionResetError: [Errno 104] Connection reset by peer",
    "MemoryError",
    "anthropic.AuthenticationError: invalid x-api-key",
    "Bedrock ValidationException: the model identifier is invalid",
    "KeyError: 'ANTHROPIC_API_KEY'",
    "StorageApiError: 503 Service Unavailable",
    "RuntimeError: Invalid configuration: EMBEDDING_MODEL is not set",
    "OSError: [Errno 28] No space left on device",
    "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379",
)


def test_at_least_30_user_side_and_15_systemic_texts() -> None:
    assert len(USER_SIDE) >= 30 and len(SYSTEMIC) >= 15


@pytest.mark.parametrize("text", USER_SIDE)
def test_realistic_user_side_failures_are_never_systemic(text: str) -> None:
    """Even at 20 users in 1,000 imports, with a burst."""
    hour = datetime(2026, 2, 2, 9, tzinfo=UTC)
    e = evidence(1_000, started_by_hour={hour: 40}, hours=[(text, hour, 20)])
    [sig] = classify([(text, 20, 20)], PROFILE, e)
    assert sig.kind == "user", sig.rule


@pytest.mark.parametrize("text", SYSTEMIC)
def test_realistic_systemic_failures_are_systemic_at_one_user(text: str) -> None:
    [sig] = classify([(text, 1, 1)], PROFILE, evidence(1_000))
    assert sig.kind == "systemic", sig.rule
    assert sig.rule.startswith("systemic pattern")


def test_numeric_profile_pattern_matches_the_raw_text() -> None:
    """'429' would be normalised to '<n>'; patterns are matched on the raw text as well."""
    [found] = classify([("HTTP 429 Too Many Requests", 5, 1)], Profile())
    assert found.kind == "systemic"


def test_a_storage_path_holding_a_uuid_becomes_one_path() -> None:
    text = "Bad file user-imports/3f2a8c1e-1111-4a4a-8b8b-123456789abc/raw-17.json"
    assert signature(text) == "Bad file <path>"
