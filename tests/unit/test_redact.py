"""Secrets never reach evidence: URL passwords, conninfo pairs, bearer tokens, query strings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.conninfo import make_conninfo

from cutover.redact import dsn_secrets, redact_text, redact_url, register_secret


def test_url_password_is_masked_and_the_rest_kept() -> None:
    url = "postgresql://reader:s3cretPW@db.example.com:5432/app?sslmode=require"
    assert redact_url(url) == "postgresql://reader:***@db.example.com:5432/app?sslmode=require"


def test_url_without_password_is_unchanged() -> None:
    url = "postgresql://reader@db.example.com:5432/app"
    assert redact_url(url) == url
    assert redact_text(url) == url


def test_url_password_with_at_sign_is_masked_by_redact_url() -> None:
    assert redact_url("postgresql://u:p@ss@host/db") == "postgresql://u:***@host/db"


def test_query_string_password_is_masked() -> None:
    url = "postgresql://u@h/db?sslmode=require&password=hunter2"
    out = redact_url(url)
    assert "hunter2" not in out
    assert out == "postgresql://u@h/db?sslmode=require&password=***"


def test_query_string_password_without_host_is_masked() -> None:
    out = redact_url("postgresql:///db?host=/tmp&password=hunter2")
    assert "hunter2" not in out
    assert "host=/tmp" in out


def test_query_token_is_masked() -> None:
    assert redact_url("https://api.example.com/v1?token=abc123&x=1") == (
        "https://api.example.com/v1?token=***&x=1"
    )


def test_conninfo_string_is_masked_by_both() -> None:
    dsn = "host=db.example.com user=reader password=hunter2 dbname=app"
    for out in (redact_url(dsn), redact_text(dsn)):
        assert "hunter2" not in out
        assert out == "host=db.example.com user=reader password=*** dbname=app"


@pytest.mark.parametrize("password", ["hunter2", "two words", "back\\slash", "x=y"])
def test_make_conninfo_output_is_masked(password: str) -> None:
    dsn = make_conninfo("", user="reader", password=password, host="db.example.com")
    for out in (redact_url(dsn), redact_text(dsn)):
        assert "password=***" in out
        assert "hunter2" not in out and "words" not in out and "slash" not in out
        assert "user=reader" in out and "host=db.example.com" in out


def test_free_text_url_password_is_masked() -> None:
    text = "connect failed: postgresql://u:hunter2@db:5432/x timed out"
    assert redact_text(text) == "connect failed: postgresql://u:***@db:5432/x timed out"


def test_bearer_token_is_masked() -> None:
    text = "Authorization: Bearer eyJhbGciOi.J9-x_y~z+/= sent"
    assert redact_text(text) == "Authorization: Bearer *** sent"


@pytest.mark.parametrize("key", ["password", "PASSWORD", "passwd", "pwd", "token", "api_key"])
def test_key_value_secrets_are_masked(key: str) -> None:
    assert redact_text(f"a=1 {key}=hunter2 b=2") == f"a=1 {key}=*** b=2"


def test_ordinary_text_is_unchanged() -> None:
    text = "stage1.success_rate: 97.5% of 812 settled imports (threshold 95)"
    assert redact_text(text) == text


PASSWORDS = st.text(
    alphabet=st.characters(min_codepoint=48, max_codepoint=122).filter(str.isalnum),
    min_size=8,
    max_size=30,
).filter(str.isascii)


@given(PASSWORDS)
def test_password_never_survives_redaction(pw: str) -> None:
    url = f"postgresql://user:{pw}@host:5432/db"
    conninfo = f"user=x password={pw} host=y"
    for out in (
        redact_url(url),
        redact_text(url),
        redact_url(conninfo),
        redact_text(conninfo),
        redact_text(f"error at {url}: refused"),
    ):
        assert pw not in out


def test_quoted_conninfo_password_with_escaped_quote_is_masked_whole() -> None:
    dsn = make_conninfo("", user="x", password="p w'd", host="y")
    assert redact_text(dsn) == "user=x password=*** host=y"
    assert redact_url(dsn) == "user=x password=*** host=y"


def test_raw_at_sign_in_url_password_is_masked_in_free_text() -> None:
    assert redact_text("see postgresql://user:p@ss@host/db") == "see postgresql://user:***@host/db"


# -- masking by value ---------------------------------------------------------------------------

DSN_FORMS = [
    "postgresql://reader:Sx9-secret-pw@127.0.0.1:5432/postgres",
    "postgres://reader:Sx9-secret-pw@127.0.0.1/postgres",
    "reader:Sx9-secret-pw@127.0.0.1:5432/postgres",  # no scheme
    "postgresql:/reader:Sx9-secret-pw@127.0.0.1/postgres",  # one slash
    "postgresql:reader:Sx9-secret-pw@127.0.0.1/postgres",
    "postgresql://reader:Sx9-secret-pw@@127.0.0.1/postgres",
    "host=127.0.0.1 user=reader password=Sx9-secret-pw dbname=postgres",
    "host=127.0.0.1 user=reader password='Sx9-secret-pw' dbname=postgres",
    "postgresql://reader@127.0.0.1/postgres?password=Sx9-secret-pw",
]


@pytest.mark.parametrize("dsn", DSN_FORMS)
def test_the_password_of_every_dsn_form_is_found(dsn: str) -> None:
    assert "Sx9-secret-pw" in [s.strip("'") for s in dsn_secrets(dsn)]


def test_a_registered_secret_is_masked_wherever_it_appears() -> None:
    register_secret("Qk2-not-a-pattern")
    # no URL, no `password=`: only its value gives it away
    text = "connection to server failed: FATAL: role 'Qk2-not-a-pattern' (Qk2-not-a-pattern)"
    assert "Qk2-not-a-pattern" not in redact_text(text)
    assert "Qk2-not-a-pattern" not in redact_url("http://x/Qk2-not-a-pattern")


def test_the_percent_decoded_form_is_masked_too() -> None:
    register_secret("pw%40Zq9x")
    assert redact_text("password authentication failed for pw@Zq9x") == (
        "password authentication failed for ***"
    )


def test_very_short_values_are_left_to_the_patterns() -> None:
    register_secret("ab")
    assert redact_text("table ab") == "table ab"
