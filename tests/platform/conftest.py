"""Fixtures of the platform tests: the repository's root and the kustomize overlays, rendered once by
`kubectl kustomize` (the renderer the deploy jobs use: `kubectl apply -k`)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.tools import tool_missing

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"
OVERLAYS = ("staging", "production")

Resource = dict[str, Any]


def kubectl() -> str:
    """The kubectl command (kustomize is built in). Outside CI a machine without it skips these tests; in CI
    (CI=true) its absence is a failure, so that the manifests are never left unchecked there."""
    path = shutil.which("kubectl")
    if path is None:
        tool_missing("kubectl", "install the package `kubectl` (the kustomize overlays are rendered with it)")
    return path


def render(directory: Path) -> list[Resource]:
    """What `kubectl kustomize DIRECTORY` renders, one dict per resource."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [resource for resource in yaml.safe_load_all(result.stdout) if resource]


class Rendered:
    """One overlay's resources, looked up by kind (and name when a kind occurs more than once)."""

    def __init__(self, overlay: str, resources: list[Resource]) -> None:
        self.overlay = overlay
        self.resources = resources

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.resources if r["kind"] == kind and name in (None, r["metadata"]["name"])]
        assert len(found) == 1, f"{self.overlay}: expected one {kind} {name or ''}, found {len(found)}"
        return found[0]

    @property
    def deployment(self) -> dict[str, Any]:
        return self.one("Deployment", "crm")

    @property
    def job(self) -> dict[str, Any]:
        return self.one("Job", "crm-migrate")

    @property
    def contract_job(self) -> dict[str, Any]:
        return self.one("Job", "crm-migrate-contract")

    @property
    def photo_sweep(self) -> dict[str, Any]:
        return self.one("CronJob", "crm-photo-sweep")

    @property
    def webhook_worker(self) -> dict[str, Any]:
        return self.one("Deployment", "crm-webhook-worker")

    @property
    def config(self) -> dict[str, str]:
        data: dict[str, str] = self.one("ConfigMap")["data"]
        return data


_REQUIREMENT = re.compile(r"\s*([\w./-]+)\s*(?:(!=|==|=)\s*([\w.-]*)|\s(in|notin)\s*\(([^)]*)\))\s*")


def select(selector: str, resources: list[Resource]) -> list[Resource]:
    """The resources ``kubectl apply --selector SELECTOR`` applies: each comma-separated requirement (``k=v``,
    ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``) must hold; a missing label equals no value, as in Kubernetes."""
    requirements = []
    for part in re.split(r",(?![^(]*\))", selector):
        match = _REQUIREMENT.fullmatch(part)
        assert match, f"unsupported selector requirement: {part!r}"
        key, operator, value, set_operator, values = match.groups()
        requirements.append((key, operator or set_operator, {v.strip() for v in (values or value).split(",")}))

    def holds(labels: dict[str, str], key: str, operator: str, values: set[str]) -> bool:
        if operator in ("=", "==", "in"):
            return labels.get(key) in values
        return labels.get(key) not in values  # != and notin also hold where the label is missing

    return [
        resource
        for resource in resources
        if all(holds(resource["metadata"].get("labels", {}), *requirement) for requirement in requirements)
    ]


def environment_tool(name: str) -> Path:
    """A command installed into this Python environment by a dev dependency (kubernetes-validate, hadolint)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is missing from {path.parent}: run `uv sync` (it is a dev dependency in pyproject.toml)")
    return path


_cache: dict[str, Rendered] = {}


def rendered_overlay(overlay: str) -> Rendered:
    if overlay not in _cache:
        _cache[overlay] = Rendered(overlay, render(DEPLOY / "overlays" / overlay))
    return _cache[overlay]


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> Rendered:
    """Each overlay in turn, rendered once per session and shared: tests must not modify it."""
    name: str = request.param
    return rendered_overlay(name)
