"""The CI templates' YAML as GitHub and GitLab read it (tests/unit/test_ci_templates.py and the
template runners in tests/shipping)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

#: the top-level keys of .gitlab-ci.yml that are not jobs
GITLAB_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
    }
)


class Loader(yaml.SafeLoader):
    """YAML as GitHub and GitLab read it: `on:` is a key, not the boolean YAML 1.1 makes it."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    assert isinstance(data, dict), path
    return data
