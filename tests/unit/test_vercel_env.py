"""`vercel env pull` files: roundtrip, sensitive values, malformed lines, a missing file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.errors import ConfigError, SourceUnavailable
from cutover.sources.vercel_env import read_env_pull_file, write_env_pull_file


def test_written_file_has_the_vercel_form(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    write_env_pull_file(path, {"ZED": "z", "V2_ROLLOUT_PERCENT": "0", "API": "a\nb"})
    assert path.read_text(encoding="utf-8") == (
        '# Created by Vercel CLI\nAPI="a\\nb"\nV2_ROLLOUT_PERCENT="0"\nZED="z"\n'
    )


@pytest.mark.parametrize("value", ["0", "", " 0", "10abc", "multi\nline", "cr\r\nlf", 'q"uote'])
def test_roundtrip(tmp_path: Path, value: str) -> None:
    path = tmp_path / ".env.local"
    write_env_pull_file(path, {"A_FIRST": "x", "V2_ROLLOUT_PERCENT": value, "Z_LAST": "y"})
    setting = read_env_pull_file(path)
    assert setting.raw == value
    assert setting.readable is True
    assert setting.origin == f"{path}, line 3"


def test_unquoted_and_single_quoted_values(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("V2_ROLLOUT_PERCENT=50\n", encoding="utf-8")
    assert read_env_pull_file(path).raw == "50"
    path.write_text("V2_ROLLOUT_PERCENT='7'\n", encoding="utf-8")
    assert read_env_pull_file(path).raw == "7"


def test_sensitive_value_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    write_env_pull_file(path, {"V2_ROLLOUT_PERCENT": "[SENSITIVE]"})
    setting = read_env_pull_file(path)
    assert setting.readable is False
    assert setting.raw is None
    assert setting.origin == f"{path}, line 2"


def test_absent_variable_is_unset(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    write_env_pull_file(path, {"OTHER": "1"})
    setting = read_env_pull_file(path)
    assert setting.raw is None
    assert setting.readable is True
    assert "no V2_ROLLOUT_PERCENT line" in setting.origin


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    path.write_text('# Created by Vercel CLI\n\nOTHER="1"\nnot a pair\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_env_pull_file(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 4" in message
    assert "'not a pair'" in message


def test_missing_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "missing.env"
    with pytest.raises(SourceUnavailable) as info:
        read_env_pull_file(path)
    assert str(path) in info.value.source
    assert "cannot be read" in info.value.message


def test_a_key_written_twice_takes_its_last_value(tmp_path: Path) -> None:
    """dotenv and Vercel take the last; the first would read a stale 0 as the rollout."""
    path = tmp_path / ".env.local"
    path.write_text(
        'V2_ROLLOUT_PERCENT="0"\nOTHER="x"\nV2_ROLLOUT_PERCENT="10"\n', encoding="utf-8"
    )
    setting = read_env_pull_file(path)
    assert setting.raw == "10"
    assert setting.origin == f"{path}, line 3"


def test_an_export_prefix_is_read_as_dotenv_does(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("export V2_ROLLOUT_PERCENT=0\n", encoding="utf-8")
    assert read_env_pull_file(path).raw == "0"


def test_a_file_that_is_not_text_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    path.write_bytes(b"V2_ROLLOUT_PERCENT=\xff\xfe\n")
    with pytest.raises(SourceUnavailable, match="not UTF-8 text"):
        read_env_pull_file(path)
