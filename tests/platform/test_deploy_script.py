"""The deploy jobs' script, run by bash against a stand-in kubectl (and aws, kustomize) that records each call and
answers as a cluster would in four stories: all goes well; the expand Job fails; the rollout fails; the contract Job
fails. What is checked is what the script does in each: which parts it applies, what it undoes, what it says."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.platform.conftest import REPOSITORY

# Records every call, its arguments separated by the unit separator (0x1f), one call per line, then answers from the
# story's environment variables. Plain sh: it runs a few dozen times per story.
FAKE_KUBECTL = r"""#!/bin/sh
for argument in "$@"; do printf '%s\037' "$argument"; done >> "$CALLS"
printf '\n' >> "$CALLS"
line=" $* "
case "$line" in
  *" get job "*)
    job=""; previous=""
    for argument in "$@"; do [ "$previous" = job ] && job="$argument"; previous="$argument"; done
    wanted=Complete
    case " $FAILING_JOBS " in *" $job "*) wanted=Failed ;; esac
    case "$line" in *"@.type==\"$wanted\""*) printf True ;; esac ;;
  *" get deployment crm-webhook-worker "*) printf 3 ;;
  *" get deployment crm "*) printf 7 ;;
  *" get cronjob crm-photo-sweep "*)
    printf '%s' '{"spec":{"template":{"spec":{"containers":[{"name":"photo-sweep","image":"old"}]}}}}' ;;
  *" rollout status deployment/crm "*) [ -z "$ROLLOUT_FAILS" ] || exit 1 ;;
esac
exit 0
"""


def _deploy_script() -> tuple[str, dict[str, str]]:
    pipeline: dict[str, Any] = yaml.safe_load((REPOSITORY / ".gitlab-ci.yml").read_text())
    job = pipeline[".deploy"]
    return "\n".join(job["script"]), {name: str(value) for name, value in job["variables"].items()}


def _run(tmp_path: Path, **story: str) -> tuple[int, str, list[list[str]]]:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "kubectl").write_text(FAKE_KUBECTL)
    for quiet in ("aws", "kustomize"):
        (tools / quiet).write_text("#!/bin/sh\nexit 0\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    (tmp_path / "image.digest").write_text("sha256:" + "0" * 64)
    overlay = tmp_path / "deploy" / "overlays" / "production"
    overlay.mkdir(parents=True)
    script, variables = _deploy_script()
    calls = tmp_path / "calls.jsonl"
    calls.touch()
    environment = {
        "PATH": f"{tools}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "CI_PROJECT_DIR": str(tmp_path),
        "OVERLAY": "production",
        "KUBE_NAMESPACE": "crm-production",
        "CI_REGISTRY_IMAGE": "registry.example.com/crm",
        "CI_COMMIT_SHA": "abc123",
        **variables,
        **story,
    }
    # GitLab's shell executor stops at the first command that fails, as `set -e` does.
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    recorded = [line.split("\x1f")[:-1] for line in calls.read_text().splitlines()]
    return result.returncode, result.stdout + result.stderr, recorded


def _applied(calls: list[list[str]]) -> list[str]:
    """The selector of each `kubectl apply`, in order."""
    return [call[call.index("--selector") + 1] for call in calls if call[:1] == ["apply"]]


def _undone(calls: list[list[str]]) -> list[str]:
    return [shlex.join(call[2:]) for call in calls if call[2:4] in (["rollout", "undo"], ["patch", "cronjob"])]


@pytest.fixture
def selectors() -> dict[str, str]:
    return _deploy_script()[1]


def test_a_good_deploy_expands_rolls_out_then_contracts(tmp_path: Path, selectors: dict[str, str]) -> None:
    status, output, calls = _run(tmp_path)
    assert status == 0, output
    assert _applied(calls) == [selectors["BEFORE_MIGRATIONS"], selectors["ROLLOUT"], selectors["CONTRACT"]]
    assert _undone(calls) == []
    deleted = [call[-3] for call in calls if call[2:4] == ["delete", "job"]]
    assert deleted == ["crm-migrate", "crm-migrate-contract"]


def test_a_failed_expand_rolls_nothing_out(tmp_path: Path, selectors: dict[str, str]) -> None:
    status, output, calls = _run(tmp_path, FAILING_JOBS="crm-migrate")
    assert status == 1
    assert "Expand migrations failed: nothing was rolled out" in output
    assert _applied(calls) == [selectors["BEFORE_MIGRATIONS"]]
    assert _undone(calls) == []


def test_a_failed_rollout_undoes_server_workers_and_sweep_and_skips_contract(
    tmp_path: Path, selectors: dict[str, str]
) -> None:
    status, output, calls = _run(tmp_path, ROLLOUT_FAILS="1")
    assert status == 1
    assert "Rollout failed: server, webhook workers and photo sweep were undone" in output
    assert _applied(calls) == [selectors["BEFORE_MIGRATIONS"], selectors["ROLLOUT"]]
    undone = _undone(calls)
    assert undone[:2] == [
        "rollout undo deployment/crm --to-revision=7",
        "rollout undo deployment/crm-webhook-worker --to-revision=3",
    ]
    (patch,) = [call for call in calls if call[2:4] == ["patch", "cronjob"]]
    operations = json.loads(patch[patch.index("-p") + 1])
    assert operations == [
        {
            "op": "replace",
            "path": "/spec/jobTemplate",
            "value": {"spec": {"template": {"spec": {"containers": [{"name": "photo-sweep", "image": "old"}]}}}},
        }
    ]


def test_a_failed_contract_leaves_the_new_release_serving(tmp_path: Path, selectors: dict[str, str]) -> None:
    status, output, calls = _run(tmp_path, FAILING_JOBS="crm-migrate-contract")
    assert status == 1
    assert "Contract migrations failed: the new release serves on the expanded schema" in output
    assert _applied(calls) == [selectors["BEFORE_MIGRATIONS"], selectors["ROLLOUT"], selectors["CONTRACT"]]
    assert _undone(calls) == []
