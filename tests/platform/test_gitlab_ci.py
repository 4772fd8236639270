""".gitlab-ci.yml: gitlab-ci-local parses it, validates it against GitLab's schema and its job graph, and evaluates
the rules; the tests then check the stages, the CI services, the kaniko build, the scans and the deploy jobs.

gitlab-ci-local comes from npm (scripts/install-ci-tools.sh, `make ci-tools`, which `make test` runs). Without Node.js
and npm these tests are skipped with the reason on a developer's machine, and fail under CI=true
(tests/support/tools.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.platform.conftest import DEPLOY, REPOSITORY, rendered_overlay, select
from tests.support.tools import tool_missing

INSTALLER = REPOSITORY / "scripts" / "install-ci-tools.sh"
GITLAB_CI_LOCAL = REPOSITORY / ".tools" / "node" / "node_modules" / ".bin" / "gitlab-ci-local"
STAGES = ["lint", "test", "build", "scan", "deploy"]
OVERRIDDEN = "CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH,CI_COMMIT_TAG,CI_PIPELINE_SOURCE"
# What GitLab sets for each kind of pipeline; a tag pipeline has no CI_COMMIT_BRANCH.
PIPELINES = {
    "default branch": ["--variable", "CI_COMMIT_BRANCH=main"],
    "other branch": ["--variable", "CI_COMMIT_BRANCH=feature/photos"],
    "release tag": ["--unset-variable", "CI_COMMIT_BRANCH", "--variable", "CI_COMMIT_TAG=v1.4.0"],
    "other tag": ["--unset-variable", "CI_COMMIT_BRANCH", "--variable", "CI_COMMIT_TAG=nightly"],
}


@pytest.fixture(scope="module")
def gitlab_ci_local() -> Path:
    """The pinned gitlab-ci-local, installed on first use (a no-op when the lock file's tree is in place)."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        tool_missing(
            f"{' and '.join(missing)} (to validate .gitlab-ci.yml with gitlab-ci-local)",
            "install Node.js >= 20 and npm (Debian: apt-get install nodejs npm), then `make ci-tools`",
        )
    result = subprocess.run(["bash", str(INSTALLER)], capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0 or not GITLAB_CI_LOCAL.exists():
        tool_missing("gitlab-ci-local", f"scripts/install-ci-tools.sh could not install it:\n{result.stderr}")
    return GITLAB_CI_LOCAL


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pipeline file: gitlab-ci-local writes its state folder next to it, not into the repository."""
    directory = tmp_path_factory.mktemp("gitlab-ci")
    shutil.copy(REPOSITORY / ".gitlab-ci.yml", directory / ".gitlab-ci.yml")
    return directory


def run(tool: Path, cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool), "--ignore-predefined-vars", OVERRIDDEN, "--variable", "CI_DEFAULT_BRANCH=main", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def jobs_by_pipeline(gitlab_ci_local: Path, workspace: Path) -> dict[str, dict[str, str]]:
    """For each kind of pipeline, each job's `when` as GitLab would evaluate the rules (never = not in it)."""
    result: dict[str, dict[str, str]] = {}
    for pipeline, variables in PIPELINES.items():
        listed = run(gitlab_ci_local, workspace, "--list-json", *variables)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        result[pipeline] = {job["name"]: job["when"] for job in json.loads(listed.stdout)}
    return result


@pytest.fixture(scope="module")
def preview(gitlab_ci_local: Path, workspace: Path) -> dict[str, Any]:
    """The pipeline with `extends` and anchors expanded, as gitlab-ci-local --preview prints it."""
    result = run(gitlab_ci_local, workspace, "--preview")
    assert result.returncode == 0, result.stdout + result.stderr
    expanded: dict[str, Any] = yaml.safe_load(result.stdout)
    return expanded


def script(job: dict[str, Any]) -> str:
    return "\n".join([*job.get("before_script", []), *job["script"]])


@pytest.mark.parametrize("pipeline", ["default branch", "release tag"])
def test_job_graph_is_valid(gitlab_ci_local: Path, workspace: Path, pipeline: str) -> None:
    result = run(gitlab_ci_local, workspace, "--validate-dependency-chain", *PIPELINES[pipeline])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All job dependencies are valid" in result.stdout


def test_stages(preview: dict[str, Any]) -> None:
    assert preview["stages"] == [".pre", *STAGES, ".post"]


def test_which_jobs_run_in_which_pipeline(jobs_by_pipeline: dict[str, dict[str, str]]) -> None:
    always = {"lint", "test", "build_image", "scan_image", "scan_dependencies"}
    for pipeline, jobs in jobs_by_pipeline.items():
        assert {job for job, when in jobs.items() if when == "on_success"} >= always, pipeline
    assert jobs_by_pipeline["default branch"]["deploy_staging"] == "on_success"
    assert jobs_by_pipeline["default branch"]["deploy_production"] == "never"
    assert jobs_by_pipeline["other branch"]["deploy_staging"] == "never"
    assert jobs_by_pipeline["other branch"]["deploy_production"] == "never"
    assert jobs_by_pipeline["release tag"]["deploy_staging"] == "never"
    assert jobs_by_pipeline["release tag"]["deploy_production"] == "manual"
    assert jobs_by_pipeline["other tag"]["deploy_production"] == "never"


def test_lint_and_test_use_the_makefile(preview: dict[str, Any]) -> None:
    assert preview["lint"]["stage"] == "lint"
    assert preview["lint"]["script"] == ["make lint"]
    assert preview["test"]["stage"] == "test"
    assert preview["test"]["script"][-1] == "make test"
    # gitlab-ci-local (tests/platform) needs Node.js and npm in the test job's image, and kubectl (rendering the
    # overlays) is installed before the tests, its download checked against the published checksum.
    assert "$APT_PACKAGES" in script(preview["test"])
    assert set(preview["test"]["variables"]["APT_PACKAGES"].split()) >= {"make", "nodejs", "npm", "curl"}
    assert "sha256sum --check" in script(preview["test"])
    assert "install -m 0755 kubectl /usr/local/bin/kubectl" in script(preview["test"])
    # tests/releases installs the previous release from its commit: a shallow clone might not have it.
    assert str(preview["test"]["variables"]["GIT_DEPTH"]) == "0"


def test_tests_get_postgresql_and_minio_as_services(preview: dict[str, Any]) -> None:
    job = preview["test"]
    services = {service["alias"]: service for service in job["services"]}
    assert services["postgres"]["name"].split("/")[-1] == "postgres:16"
    assert "minio/minio:RELEASE." in services["minio"]["name"]
    assert services["minio"]["command"][0] == "server"
    variables = job["variables"]
    assert re.fullmatch(r"postgresql://[^@]+@postgres:5432/\w+", variables["TEST_DATABASE_URL"])
    assert variables["TEST_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert variables["TEST_S3_ACCESS_KEY_ID"] == services["minio"]["variables"]["MINIO_ROOT_USER"]


def test_image_is_built_with_kaniko_without_docker_in_docker(preview: dict[str, Any]) -> None:
    job = preview["build_image"]
    assert job["stage"] == "build"
    assert job["image"]["name"] == "$KANIKO_IMAGE"
    assert re.fullmatch(r"gcr\.io/kaniko-project/executor:v[\d.]+-debug", preview["variables"]["KANIKO_IMAGE"])
    assert job["image"]["entrypoint"] == [""]
    commands = script(job)
    assert "/kaniko/executor" in commands
    assert '--dockerfile "$CI_PROJECT_DIR/Containerfile"' in commands
    assert "--destination ${CI_REGISTRY_IMAGE}:${CI_COMMIT_SHA}" in commands
    assert "--destination ${CI_REGISTRY_IMAGE}:${CI_COMMIT_TAG}" in commands
    assert "--digest-file" in commands
    assert job["artifacts"]["paths"] == ["image.digest"]
    for name, other in preview.items():
        if not isinstance(other, dict) or "script" not in other:
            continue
        services = " ".join(str(service) for service in other.get("services", []))
        assert "dind" not in services, name
        assert "docker build" not in script(other), name
        assert "privileged" not in json.dumps(other), name


def test_image_and_dependencies_are_scanned(preview: dict[str, Any]) -> None:
    image_scan, dependency_scan = preview["scan_image"], preview["scan_dependencies"]
    assert image_scan["stage"] == dependency_scan["stage"] == "scan"
    assert [(need["job"], need["artifacts"]) for need in image_scan["needs"]] == [("build_image", True)]
    assert "trivy image --exit-code 1 --severity HIGH,CRITICAL" in script(image_scan)
    assert "@sha256:" in preview["variables"]["TRIVY_IMAGE"], "pin the scanner by digest"
    commands = script(dependency_scan)
    assert "uv export --frozen --no-dev" in commands
    assert "pip-audit" in commands and "--strict" in commands


@pytest.mark.parametrize(
    ("job_name", "environment"), [("deploy_staging", "staging"), ("deploy_production", "production")]
)
def test_deploy_migrates_then_rolls_out(preview: dict[str, Any], job_name: str, environment: str) -> None:
    job = preview[job_name]
    assert job["stage"] == "deploy"
    assert job["environment"]["name"] == environment
    assert job["resource_group"] == environment
    overlay = job["variables"]["OVERLAY"]
    assert (DEPLOY / "overlays" / overlay / "kustomization.yaml").exists()
    rendered = rendered_overlay(overlay)
    assert job["variables"]["KUBE_NAMESPACE"] == rendered.deployment["metadata"]["namespace"]
    assert {need["job"] for need in job["needs"]} == {"build_image", "scan_image", "scan_dependencies"}
    assert job["id_tokens"]["AWS_ID_TOKEN"]["aud"] == "sts.amazonaws.com"

    commands = script(job)
    steps = [
        'aws eks update-kubeconfig --name "$EKS_CLUSTER_NAME" --region "$AWS_REGION"',
        'kustomize edit set image "crm=${CI_REGISTRY_IMAGE}:${CI_COMMIT_SHA}@$(cat "$CI_PROJECT_DIR/image.digest")"',
        '.status.conditions[?(@.type=="Complete")].status',
        # 1. expand: settings, policies and the expand Job only, then wait for it
        f"delete job {rendered.job['metadata']['name']} --ignore-not-found",
        'kubectl apply -k "deploy/overlays/$OVERLAY" --selector "$BEFORE_MIGRATIONS"',
        "if ! wait_for_job crm-migrate; then",
        "nothing was rolled out",
        # 2. note what ran, roll the three workloads together, undo all three on failure
        'SERVER_BEFORE="$(kubectl',
        'WORKER_BEFORE="$(kubectl',
        'SWEEP_BEFORE="$(kubectl -n "$KUBE_NAMESPACE" get cronjob crm-photo-sweep',
        'kubectl apply -k "deploy/overlays/$OVERLAY" --selector "$ROLLOUT"',
        "rollout status deployment/crm --timeout",
        "rollout status deployment/crm-webhook-worker --timeout",
        'rollout undo deployment/crm --to-revision="$SERVER_BEFORE"',
        'rollout undo deployment/crm-webhook-worker --to-revision="$WORKER_BEFORE"',
        "patch cronjob crm-photo-sweep --type=json",
        "Rollout failed: server, webhook workers and photo sweep were undone",
        # 3. contract, only after a successful rollout
        f"delete job {rendered.contract_job['metadata']['name']} --ignore-not-found",
        'kubectl apply -k "deploy/overlays/$OVERLAY" --selector "$CONTRACT"',
        "if ! wait_for_job crm-migrate-contract; then",
    ]
    positions = [commands.find(step) for step in steps]
    assert -1 not in positions, [step for step, position in zip(steps, positions, strict=True) if position == -1]
    assert positions == sorted(positions), "expand, then the rollout (undone on failure), then contract"
    # Every apply is a selected part: nothing is applied whole, early.
    assert commands.count("kubectl apply -k") == commands.count('--selector "$') == 3


@pytest.mark.parametrize("overlay", ["staging", "production"])
def test_deploy_steps_apply_every_object_once_in_the_right_step(preview: dict[str, Any], overlay: str) -> None:
    """The selectors of the three steps, evaluated on the rendered overlay as kubectl would."""
    variables = preview["deploy_staging"]["variables"]
    rendered = rendered_overlay(overlay)
    steps = {step: select(variables[step], rendered.resources) for step in ("BEFORE_MIGRATIONS", "ROLLOUT", "CONTRACT")}

    def names(resources: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {(resource["kind"], resource["metadata"]["name"].split("-config-")[0]) for resource in resources}

    assert names(steps["BEFORE_MIGRATIONS"]) == {
        ("ServiceAccount", "crm"),
        ("ConfigMap", "crm"),
        ("NetworkPolicy", "crm"),
        ("Job", "crm-migrate"),
    }
    assert names(steps["ROLLOUT"]) == {
        ("Deployment", "crm"),
        ("Service", "crm"),
        ("HorizontalPodAutoscaler", "crm"),
        ("PodDisruptionBudget", "crm"),
        ("Deployment", "crm-webhook-worker"),
        ("CronJob", "crm-photo-sweep"),
    }
    assert names(steps["CONTRACT"]) == {("Job", "crm-migrate-contract")}
    applied = [resource for selected in steps.values() for resource in selected]
    assert len(applied) == len(rendered.resources), "each rendered object belongs to exactly one step"


def test_production_needs_a_person_and_a_release_tag(preview: dict[str, Any]) -> None:
    assert preview["deploy_production"]["rules"] == [{"if": r"$CI_COMMIT_TAG =~ /^v\d+\.\d+\.\d+$/", "when": "manual"}]
    assert preview["deploy_staging"]["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert preview["deploy_production"].get("allow_failure", False) is False  # a blocking gate, not optional
