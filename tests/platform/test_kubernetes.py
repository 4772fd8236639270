"""The Kubernetes manifests: every rendered overlay validates strictly against the API schemas, and carries the
probes, security settings, sizes, shutdown timing, migration Job, autoscaling, disruption budget, network policy
and IAM role that docs/deployment.md promises."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.platform.conftest import DEPLOY, OVERLAYS, Rendered, environment_tool, render, rendered_overlay

# The oldest version the manifests rely on (the kubelet's preStop sleep action is on by default from 1.30) and the
# version the toolbox names as current.
KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")
CORE_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "Service",
    "Deployment",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
}
SERVER = {"app.kubernetes.io/name": "crm", "app.kubernetes.io/component": "server"}


def _quantity(value: str | int) -> float:
    """CPU in cores or memory in bytes, from a Kubernetes quantity such as 250m, 1, 512Mi."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    template = workload["spec"]["jobTemplate"]["spec"] if workload["kind"] == "CronJob" else workload["spec"]
    spec: dict[str, Any] = template["template"]["spec"]
    return spec


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _pod(workload)["containers"]
    assert len(containers) == 1
    return containers[0]


# --- schema validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", OVERLAYS)
def test_every_rendered_resource_validates_strictly(name: str, version: str) -> None:
    rendered = rendered_overlay(name)
    assert {r["kind"] for r in rendered.resources} == CORE_KINDS
    for resource in rendered.resources:
        where = f"{name}: {resource['kind']}/{resource['metadata']['name']} against Kubernetes {version}"
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            pytest.fail(f"{where}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:  # the CLI only warns; here it is an error
            pytest.fail(f"{where}: {error.message}")


def test_the_command_line_validator_accepts_a_rendered_overlay(tmp_path: Path) -> None:
    """The same check as a platform engineer runs it: `kubernetes-validate --strict -k 1.33.0 FILE`."""
    rendered = tmp_path / "production.yaml"
    rendered.write_text(yaml.safe_dump_all(rendered_overlay("production").resources))
    result = subprocess.run(
        [str(environment_tool("kubernetes-validate")), "--strict", "-k", "1.33.0", str(rendered)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout
    assert "WARN" not in result.stdout  # a warning would mean a resource had no schema and went unchecked


# --- what every overlay must contain ---------------------------------------------------------------------------


def test_resources_land_in_the_overlay_namespace(overlay: Rendered) -> None:
    assert {r["metadata"]["namespace"] for r in overlay.resources} == {f"crm-{overlay.overlay}"}


def test_probes(overlay: Rendered) -> None:
    container = _container(overlay.deployment)
    for probe, path in (
        ("startupProbe", "/health/live"),
        ("livenessProbe", "/health/live"),
        ("readinessProbe", "/health/ready"),
    ):
        assert container[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container["ports"]
    # The startup probe gives a slow start a minute before the liveness probe may restart the container.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_shutdown_timing_fits_the_grace_period(overlay: Rendered) -> None:
    """preStop pause + the service's drain time + time to close must fit before the kubelet's SIGKILL."""
    container = _container(overlay.deployment)
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = int(overlay.config["CRM_SHUTDOWN_DRAIN_SECONDS"])
    grace = _pod(overlay.deployment)["terminationGracePeriodSeconds"]
    assert pre_stop >= 5, "load balancers need a few seconds to stop sending new requests"
    assert grace >= pre_stop + drain + 10, (pre_stop, drain, grace)


@pytest.mark.parametrize("workload", ["deployment", "job", "contract_job", "photo_sweep", "webhook_worker"])
def test_restricted_security_context(overlay: Rendered, workload: str) -> None:
    resource = getattr(overlay, workload)
    pod, container = _pod(resource), _container(resource)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False  # else Kubernetes injects CRM_PORT=tcp://... into our namespace
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 10001
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert context.get("privileged", False) is False
    # The only writable path, where HOME and TMPDIR point in the image.
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": pod["volumes"][0]["emptyDir"]} == pod["volumes"][0]
    assert "sizeLimit" in pod["volumes"][0]["emptyDir"]


@pytest.mark.parametrize("workload", ["deployment", "job", "contract_job", "photo_sweep", "webhook_worker"])
def test_resource_requests_and_limits(overlay: Rendered, workload: str) -> None:
    resources = _container(getattr(overlay, workload))["resources"]
    for name in ("cpu", "memory"):
        request, limit = _quantity(resources["requests"][name]), _quantity(resources["limits"][name])
        assert 0 < request <= limit, (name, request, limit)
    if workload == "deployment":
        # One worker per pod fits one core; argon2 hashing (64 MiB each) and image processing need headroom.
        assert _quantity(resources["limits"]["cpu"]) == 1
        assert _quantity(resources["limits"]["memory"]) >= 512 * 2**20
        assert overlay.config["CRM_WORKERS"] == "1"


def test_configuration_and_secrets_by_reference(overlay: Rendered) -> None:
    config_map = overlay.one("ConfigMap")
    assert re.fullmatch(r"crm-config-[a-z0-9]{10}", config_map["metadata"]["name"])
    for workload in (
        overlay.deployment,
        overlay.job,
        overlay.contract_job,
        overlay.photo_sweep,
        overlay.webhook_worker,
    ):
        assert _container(workload)["envFrom"] == [
            {"configMapRef": {"name": config_map["metadata"]["name"]}},
            {"secretRef": {"name": "crm-secrets"}},
        ]
    # Secrets never travel in the repository: no Secret object, no secret-looking setting in the ConfigMap.
    assert not [r for r in overlay.resources if r["kind"] == "Secret"]
    assert not {key for key in overlay.config if re.search("SECRET|PASSWORD|DATABASE_URL|TOKEN|ACCESS_KEY", key)}
    config = overlay.config
    assert config["CRM_ENV"] == "production"
    assert config["CRM_LOG_FORMAT"] == "json"
    assert config["CRM_PUBLIC_URL"].startswith("https://")
    assert all(origin.startswith("https://") for origin in config["CRM_CORS_ORIGINS"].split(","))
    assert overlay.overlay in config["CRM_S3_BUCKET"]
    assert config["PORT"] == "8000"
    # kustomize's hash is computed from ASCII-only data here (tests/platform/kustomize.py relies on it).
    assert all(value.isascii() for value in config.values())


def test_migration_jobs_run_both_phases_from_the_same_image(overlay: Rendered) -> None:
    deployment = overlay.deployment
    assert _container(deployment)["args"] == ["serve"]
    phases = {"job": (["migrate"], "migration"), "contract_job": (["migrate", "--contract"], "migration-contract")}
    for workload, (args, component) in phases.items():
        job = getattr(overlay, workload)
        container = _container(job)
        assert container["args"] == args
        assert container["image"] == _container(deployment)["image"]
        assert _pod(job)["restartPolicy"] == "Never"
        assert job["spec"]["backoffLimit"] <= 3
        # The pipeline applies each step by component (.gitlab-ci.yml; test_gitlab_ci checks the selectors).
        assert job["metadata"]["labels"]["app.kubernetes.io/component"] == component
        assert _pod(job)["containers"][0]["name"] == "migrate"
    assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == "server"


def test_migration_deadlines_allow_for_the_lock_retries(overlay: Rendered) -> None:
    """A revision may wait lock_timeout per attempt plus the doubling pauses before `crm migrate` gives up; every
    pod the Job may start must have room within the Job's deadline for ten revisions that each wait that long."""
    config = overlay.config
    lock_timeout = float(config["CRM_MIGRATION_LOCK_TIMEOUT_SECONDS"])
    retries = int(config["CRM_MIGRATION_LOCK_RETRIES"])
    pause = float(config["CRM_MIGRATION_RETRY_PAUSE_SECONDS"])
    giving_up = (retries + 1) * lock_timeout + sum(pause * 2**attempt for attempt in range(retries))
    assert giving_up <= 120, "a migration stuck behind a lock should fail within two minutes"
    assert float(config["CRM_MIGRATION_STATEMENT_TIMEOUT_SECONDS"]) <= 60
    for job in (overlay.job, overlay.contract_job):
        attempts = job["spec"]["backoffLimit"] + 1
        assert job["spec"]["activeDeadlineSeconds"] >= 10 * attempts * giving_up


def test_photo_sweep_runs_hourly_from_the_same_image(overlay: Rendered) -> None:
    sweep = overlay.photo_sweep
    container = _container(sweep)
    assert container["args"][:2] == ["photos", "sweep"]
    assert container["image"] == _container(overlay.deployment)["image"]
    assert sweep["spec"]["concurrencyPolicy"] == "Forbid"
    assert sweep["spec"]["schedule"].split()[1:] == ["*", "*", "*", "*"]  # every hour


def test_webhook_workers_run_from_the_same_image_apart_from_the_service(overlay: Rendered) -> None:
    worker = overlay.webhook_worker
    container = _container(worker)
    assert container["args"][:2] == ["webhooks", "work"]
    assert container["image"] == _container(overlay.deployment)["image"]
    assert worker["spec"]["replicas"] >= 2
    assert worker["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "webhook-worker"
    # Not behind the Service, not counted by the server's disruption budget or autoscaler.
    assert not SERVER.items() <= worker["spec"]["template"]["metadata"]["labels"].items()
    assert {"name": "metrics", "containerPort": 9101, "protocol": "TCP"} in container["ports"]
    # A stopping worker finishes its round (10 s per send) and closes within the grace period.
    assert _pod(worker)["terminationGracePeriodSeconds"] >= 25


def test_image_is_set_by_the_overlay(overlay: Rendered) -> None:
    image = _container(overlay.deployment)["image"]
    assert "/" in image and ":" in image, image
    assert not image.endswith(":latest")


def test_service_selects_only_serving_pods(overlay: Rendered) -> None:
    service, deployment = overlay.one("Service"), overlay.deployment
    assert service["spec"]["selector"] == SERVER
    assert deployment["spec"]["selector"]["matchLabels"] == SERVER
    assert SERVER.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    job_labels = overlay.job["spec"]["template"]["metadata"]["labels"]
    assert not SERVER.items() <= job_labels.items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_autoscaler_owns_the_replica_count(overlay: Rendered) -> None:
    hpa = overlay.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "crm"}
    assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    # A replicas field would be reset by every `kubectl apply`, fighting the autoscaler.
    assert "replicas" not in overlay.deployment["spec"]
    if overlay.overlay == "production":
        assert hpa["spec"]["minReplicas"] >= 2


def test_disruption_budget(overlay: Rendered) -> None:
    pdb = overlay.one("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"] == SERVER
    assert pdb["spec"]["maxUnavailable"] == 1


def test_network_policy(overlay: Rendered) -> None:
    policy = overlay.one("NetworkPolicy")["spec"]
    assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "crm"}  # server and migration pods
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    ingress_ports = [(port["port"], port["protocol"]) for rule in policy["ingress"] for port in rule["ports"]]
    assert ingress_ports == [(8000, "TCP"), (9101, "TCP")]
    egress_ports = {(port["port"], port["protocol"]) for rule in policy["egress"] for port in rule["ports"]}
    assert egress_ports == {(53, "UDP"), (53, "TCP"), (5432, "TCP"), (443, "TCP")}


def test_service_account_carries_the_overlays_iam_role(overlay: Rendered) -> None:
    account = overlay.one("ServiceAccount", "crm")
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/crm-[a-z-]+", role), role
    assert overlay.overlay in role
    assert "set-by-overlay" not in role
    assert account["automountServiceAccountToken"] is False
    assert _pod(overlay.deployment)["serviceAccountName"] == "crm"


def test_overlays_differ_in_size_and_settings() -> None:
    staging, production = rendered_overlay("staging"), rendered_overlay("production")
    assert staging.config["CRM_PUBLIC_URL"] != production.config["CRM_PUBLIC_URL"]
    staging_hpa = staging.one("HorizontalPodAutoscaler")["spec"]
    production_hpa = production.one("HorizontalPodAutoscaler")["spec"]
    assert production_hpa["minReplicas"] > staging_hpa["minReplicas"]
    assert production_hpa["maxReplicas"] > staging_hpa["maxReplicas"]


# --- the optional ServiceMonitor -------------------------------------------------------------------------------


def test_service_monitor_component_scrapes_the_service(tmp_path: Path) -> None:
    """Added to an overlay, the component's ServiceMonitor selects the Service and its named port. (It is a custom
    resource: the plain Kubernetes schemas cannot validate it, which is why it is not in the base.)"""
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "crm-production",
        "resources": [os.path.relpath(DEPLOY / "overlays" / "production", tmp_path)],
        "components": [os.path.relpath(DEPLOY / "components" / "service-monitor", tmp_path)],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    resources = render(tmp_path)
    monitor = next(r for r in resources if r["kind"] == "ServiceMonitor")
    service = next(r for r in resources if r["kind"] == "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == service["metadata"]["namespace"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(monitor, "1.33.0", strict=True)


def test_image_with_tag_and_digest_as_the_pipeline_sets_it(tmp_path: Path) -> None:
    """`kustomize edit set image crm=REPO:SHA@DIGEST` (the deploy job) gives REPO:SHA@DIGEST in every pod."""
    digest = "sha256:" + "0123456789abcdef" * 4
    kustomization = {
        "resources": [os.path.relpath(DEPLOY / "overlays" / "staging", tmp_path)],
        "images": [{"name": "registry.gitlab.com/example/crm-service", "newTag": "abc123", "digest": digest}],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    images = {
        container["image"]
        for resource in render(tmp_path)
        if resource["kind"] in {"Deployment", "Job"}
        for container in resource["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"registry.gitlab.com/example/crm-service:abc123@{digest}"}
