"""The tests' kustomize renderer: it agrees with kubectl where kubectl is installed, with kustomize's own hash
test vectors everywhere, and refuses what it does not implement."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.platform.conftest import DEPLOY
from tests.platform.kustomize import UnsupportedFeature, config_map_hash, render, strategic_merge

KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: the cross-check with real kustomize needs it")
@pytest.mark.parametrize("directory", ["base", "overlays/staging", "overlays/production"])
def test_renders_what_kubectl_kustomize_renders(directory: str) -> None:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(DEPLOY / directory)], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    expected = {(r["kind"], r["metadata"]["name"]): r for r in yaml.safe_load_all(result.stdout) if r}
    rendered = {(r["kind"], r["metadata"]["name"]): r for r in render(DEPLOY / directory)}
    assert sorted(rendered) == sorted(expected)
    for key, resource in expected.items():
        assert rendered[key] == resource, key


@pytest.mark.parametrize(
    ("data", "suffix"),
    [
        ({"one": ""}, "9g67k2htb6"),  # kustomize api/hasher/hasher_test.go, "one key"
        ({"A": "b"}, "b9t2424hkf"),  # kubectl kustomize (kustomize v5.5.0)
        ({"A": "b&c<d>e/f", "B": "https://a.example.com,https://b.example.com"}, "45g897k425"),  # the same
    ],
)
def test_config_map_hash_matches_kustomize(data: dict[str, str], suffix: str) -> None:
    assert config_map_hash(data) == suffix


def test_strategic_merge_merges_containers_by_name_and_replaces_plain_lists() -> None:
    original = {"containers": [{"name": "a", "args": ["x"], "env": [{"name": "K", "value": "1"}]}, {"name": "b"}]}
    patch = {"containers": [{"name": "a", "args": ["y"], "env": [{"name": "L", "value": "2"}]}]}
    assert strategic_merge(original, patch) == {
        "containers": [
            {"name": "a", "args": ["y"], "env": [{"name": "K", "value": "1"}, {"name": "L", "value": "2"}]},
            {"name": "b"},
        ]
    }
    assert strategic_merge({"a": 1, "b": 2}, {"b": None}) == {"a": 1}


@pytest.mark.parametrize(
    "kustomization",
    [
        {"resources": [], "replicas": [{"name": "crm", "count": 2}]},
        {"resources": ["thing.yaml"], "patches": [{"path": "patch.yaml", "target": {"kind": "Thing"}}]},
        {"resources": ["thing.yaml"], "patches": [{"path": "list-patch.yaml"}]},
        {"resources": ["thing.yaml"], "labels": [{"pairs": {"a": "b"}, "includeSelectors": True}]},
        {"configMapGenerator": [{"name": "c", "files": ["x.txt"]}]},
    ],
)
def test_refuses_what_it_does_not_implement(tmp_path: Path, kustomization: dict[str, object]) -> None:
    thing = {"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"ports": [{"port": 1}]}}
    (tmp_path / "thing.yaml").write_text(yaml.safe_dump(thing))
    (tmp_path / "patch.yaml").write_text(yaml.safe_dump(thing))
    list_patch = {**thing, "spec": {"ports": [{"port": 2}]}}
    (tmp_path / "list-patch.yaml").write_text(yaml.safe_dump(list_patch))
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    with pytest.raises(UnsupportedFeature):
        render(tmp_path)


def _kubectl_kustomize(directory: Path) -> list[dict[str, object]] | None:
    if KUBECTL is None:
        return None
    result = subprocess.run([KUBECTL, "kustomize", str(directory)], capture_output=True, text=True, check=True)
    return [r for r in yaml.safe_load_all(result.stdout) if r]


def test_image_with_tag_and_digest_as_the_pipeline_sets_it(tmp_path: Path) -> None:
    """`kustomize edit set image crm=REPO:SHA@DIGEST` (the deploy job) gives REPO:SHA@DIGEST in every pod."""
    digest = "sha256:" + "0123456789abcdef" * 4
    kustomization = {
        "resources": [os.path.relpath(DEPLOY / "overlays" / "staging", tmp_path)],
        "images": [{"name": "registry.gitlab.com/example/crm-service", "newTag": "abc123", "digest": digest}],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    rendered = render(tmp_path)
    images = {
        c["image"]
        for r in rendered
        if r["kind"] in {"Deployment", "Job"}
        for c in r["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"registry.gitlab.com/example/crm-service:abc123@{digest}"}
    expected = _kubectl_kustomize(tmp_path)
    if expected is not None:
        assert {json.dumps(r, sort_keys=True) for r in rendered} == {json.dumps(r, sort_keys=True) for r in expected}
