"""The lock files pin, with hashes, every dependency pyproject.toml declares (`make lock` after a change)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pinned(lock: str) -> dict[str, str]:
    """Package name → the whole entry (its pin and hashes) in a lock file."""
    text = (ROOT / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text)
    found = {}
    for entry in entries:
        if match := re.match(r"([A-Za-z0-9_.\-]+)==\S+", entry):
            found[canonicalize_name(match.group(1))] = entry
    return found


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("requirements.lock", ["dependencies"]), ("requirements-dev.lock", ["dependencies", "dev"])],
)
def test_every_declared_dependency_is_pinned_with_hashes(lock, groups):
    entries = pinned(lock)
    declared = list(PROJECT["dependencies"])
    if "dev" in groups:
        declared += PROJECT["optional-dependencies"]["dev"]
    for requirement in map(Requirement, declared):
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{name} is not in {lock}: run `make lock`"
        version = re.match(r"[^=]+==([^\s;\\]+)", entries[name]).group(1)
        assert requirement.specifier.contains(version, prereleases=True), f"{lock}: {name} {version} {requirement}"
    for name, entry in entries.items():
        assert "--hash=sha256:" in entry, f"{lock}: {name} has no hash"


def test_the_image_installs_the_runtime_lock_only():
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert canonicalize_name("pytest") not in pinned("requirements.lock")
