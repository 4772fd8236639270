"""A small kustomize renderer for the tests: exactly the features that deploy/ uses, and nothing else.

Neither kustomize nor kubectl is a dependency of the project, and no maintained Python package renders
kustomizations (the PyPI ``kustomize`` package was last released in 2024 and covers a different subset). So the
tests render the overlays with this module, which follows kustomize v5's documented behaviour for:

- ``resources``: YAML files (several documents each) and directories holding a kustomization;
- ``components``: ``kind: Component`` directories, which may only add ``resources``;
- ``configMapGenerator`` with ``literals`` and ``behavior`` (create, merge, replace), with the name suffixed by
  kustomize's content hash and every reference from a pod template updated to the suffixed name;
- ``patches`` given by ``path``: strategic merge, with lists of containers, env and volumes merged by ``name``;
- ``namespace``, ``labels`` (``pairs``, ``includeSelectors: false``, ``includeTemplates``) and ``images``.

Anything else (another key, a JSON 6902 patch, a ``$patch`` directive, a list of objects with no merge key) raises
``UnsupportedFeature`` rather than being rendered wrongly. Where kubectl is installed, a test compares this output
with ``kubectl kustomize``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

KUSTOMIZATION_FILE = "kustomization.yaml"
_KUSTOMIZATION_KEYS = frozenset(
    {"apiVersion", "kind", "resources", "components", "namespace", "labels", "images", "patches", "configMapGenerator"}
)
_COMPONENT_KEYS = frozenset({"apiVersion", "kind", "resources"})
_GENERATOR_KEYS = frozenset({"name", "literals", "behavior"})
_LABELS_KEYS = frozenset({"pairs", "includeSelectors", "includeTemplates"})
_IMAGE_KEYS = frozenset({"name", "newName", "newTag", "digest"})
# Strategic merge patch: the lists that Kubernetes merges by the `name` of their items.
_MERGED_BY_NAME = frozenset({"containers", "initContainers", "ephemeralContainers", "env", "volumes"})
_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"})
_CLUSTER_SCOPED_KINDS = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass", "StorageClass"}
)


_HASH_LETTERS = str.maketrans("013ae", "ghkmt")


class UnsupportedFeature(ValueError):
    """The kustomization uses something this renderer does not implement."""


@dataclass
class _Build:
    resources: list[Resource] = field(default_factory=list)
    generated_config_maps: set[str] = field(default_factory=set)  # names before the hash suffix


def render(directory: Path) -> list[Resource]:
    """The resources that ``kubectl kustomize DIRECTORY`` prints, in no particular order."""
    build = _build(directory)
    _suffix_generated_names(build)
    return build.resources


def render_to_yaml(directory: Path) -> str:
    return yaml.safe_dump_all(render(directory), sort_keys=True)


def _load(path: Path) -> Mapping[str, Any]:
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise UnsupportedFeature(f"{path}: expected a mapping")
    return document


def _load_resources(path: Path) -> Iterator[Resource]:
    for document in yaml.safe_load_all(path.read_text()):
        if document is None:
            continue
        if not isinstance(document, dict) or not {"apiVersion", "kind", "metadata"} <= document.keys():
            raise UnsupportedFeature(f"{path}: every document must be a Kubernetes object")
        yield document


def _check_keys(where: str, given: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise UnsupportedFeature(f"{where}: {', '.join(unknown)} not supported by tests/platform/kustomize.py")


def _build(directory: Path) -> _Build:
    kustomization_path = directory / KUSTOMIZATION_FILE
    kustomization = _load(kustomization_path)
    _check_keys(str(kustomization_path), kustomization, _KUSTOMIZATION_KEYS)
    if kustomization.get("kind", "Kustomization") != "Kustomization":
        raise UnsupportedFeature(f"{kustomization_path}: not a Kustomization")

    build = _Build()
    for entry in kustomization.get("resources", []):
        _add_resource(build, directory / entry)
    for entry in kustomization.get("components", []):
        _add_component(build, directory / entry)
    for generator in kustomization.get("configMapGenerator", []):
        _generate_config_map(build, generator, where=str(kustomization_path))
    for patch in kustomization.get("patches", []):
        _apply_patch(build, directory, patch)
    if "namespace" in kustomization:
        for resource in build.resources:
            if resource["kind"] not in _CLUSTER_SCOPED_KINDS:
                resource["metadata"]["namespace"] = kustomization["namespace"]
    for labels in kustomization.get("labels", []):
        _add_labels(build, labels, where=str(kustomization_path))
    for image in kustomization.get("images", []):
        _check_keys(f"{kustomization_path}: images", image, _IMAGE_KEYS)
        for pod in _pod_specs(build.resources):
            for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
                container["image"] = _new_image(container["image"], image)
    _check_unique(build.resources, where=str(kustomization_path))
    return build


def _add_resource(build: _Build, path: Path) -> None:
    if path.is_dir():
        base = _build(path)
        build.resources.extend(base.resources)
        build.generated_config_maps |= base.generated_config_maps
    else:
        build.resources.extend(_load_resources(path))


def _add_component(build: _Build, directory: Path) -> None:
    component_path = directory / KUSTOMIZATION_FILE
    component = _load(component_path)
    _check_keys(str(component_path), component, _COMPONENT_KEYS)
    if component.get("kind") != "Component":
        raise UnsupportedFeature(f"{component_path}: a component must have kind: Component")
    for entry in component.get("resources", []):
        _add_resource(build, directory / entry)


def _generate_config_map(build: _Build, generator: Mapping[str, Any], *, where: str) -> None:
    _check_keys(f"{where}: configMapGenerator", generator, _GENERATOR_KEYS)
    name = generator["name"]
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, separator, value = str(literal).partition("=")
        if not separator or value[:1] in {'"', "'"}:
            raise UnsupportedFeature(f"{where}: literal {literal!r} must be KEY=VALUE, unquoted")
        data[key] = value
    behavior = generator.get("behavior", "create")
    existing = [r for r in build.resources if r["kind"] == "ConfigMap" and r["metadata"]["name"] == name]
    if behavior == "create":
        if existing:
            raise UnsupportedFeature(f"{where}: ConfigMap {name} already exists; use behavior: merge or replace")
        build.resources.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
        build.generated_config_maps.add(name)
    elif behavior in {"merge", "replace"}:
        if len(existing) != 1 or name not in build.generated_config_maps:
            raise UnsupportedFeature(f"{where}: behavior {behavior} needs one ConfigMap {name} generated by a base")
        target = existing[0]
        target["data"] = {**target.get("data", {}), **data} if behavior == "merge" else data
    else:
        raise UnsupportedFeature(f"{where}: behavior {behavior!r}")


def _apply_patch(build: _Build, directory: Path, patch: Mapping[str, Any]) -> None:
    if set(patch) != {"path"}:
        raise UnsupportedFeature(f"{directory}: only `patches: - path: FILE` (strategic merge) is supported")
    path = directory / patch["path"]
    for document in _load_resources(path):
        kind, name = document["kind"], document["metadata"]["name"]
        targets = [r for r in build.resources if r["kind"] == kind and r["metadata"]["name"] == name]
        if len(targets) != 1:
            raise UnsupportedFeature(f"{path}: {kind}/{name} matches {len(targets)} resources")
        merged = strategic_merge(targets[0], document)
        targets[0].clear()
        targets[0].update(merged)


def strategic_merge(original: Any, patch: Any, *, key: str = "") -> Any:
    """Kubernetes strategic merge for the subset of fields this project patches."""
    if isinstance(original, dict) and isinstance(patch, dict):
        result = copy.deepcopy(original)
        for name, value in patch.items():
            if name.startswith("$"):
                raise UnsupportedFeature(f"directive {name}")
            if value is None:
                result.pop(name, None)
            elif name in result:
                result[name] = strategic_merge(result[name], value, key=name)
            else:
                result[name] = copy.deepcopy(value)
        return result
    if isinstance(original, list) and isinstance(patch, list):
        if key in _MERGED_BY_NAME:
            merged = [copy.deepcopy(item) for item in original]
            for item in patch:
                position = next((i for i, old in enumerate(merged) if old["name"] == item["name"]), None)
                if position is None:
                    merged.append(copy.deepcopy(item))
                else:
                    merged[position] = strategic_merge(merged[position], item)
            return merged
        if any(isinstance(item, dict) for item in [*original, *patch]):
            raise UnsupportedFeature(f"merging the list {key!r} of objects")
    return copy.deepcopy(patch)


def _add_labels(build: _Build, labels: Mapping[str, Any], *, where: str) -> None:
    _check_keys(f"{where}: labels", labels, _LABELS_KEYS)
    if labels.get("includeSelectors", False):
        raise UnsupportedFeature(f"{where}: includeSelectors: true (selectors are immutable; set them in the base)")
    pairs = {str(k): str(v) for k, v in labels["pairs"].items()}
    for resource in build.resources:
        resource["metadata"].setdefault("labels", {}).update(pairs)
        if labels.get("includeTemplates", False) and resource["kind"] in _WORKLOAD_KINDS:
            resource["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
        elif labels.get("includeTemplates", False) and resource["kind"] == "CronJob":
            # kustomize labels the job template and the pod template inside it.
            job = resource["spec"]["jobTemplate"]
            job.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
            job["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _pod_specs(resources: list[Resource]) -> Iterator[dict[str, Any]]:
    for resource in resources:
        if resource["kind"] in _WORKLOAD_KINDS:
            yield resource["spec"]["template"]["spec"]
        elif resource["kind"] == "CronJob":
            yield resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif resource["kind"] == "Pod":
            yield resource["spec"]


def _split_image(image: str) -> tuple[str, str | None, str | None]:
    name, _, digest = image.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def _new_image(image: str, rule: Mapping[str, Any]) -> str:
    """kustomize's api/filters/imagetag: a new tag or digest replaces both the old tag and the old digest."""
    name, tag, digest = _split_image(image)
    if name != rule["name"]:
        return image
    name = str(rule.get("newName", name))
    new_tag, new_digest = rule.get("newTag"), rule.get("digest")
    if new_tag or new_digest:
        tag, digest = new_tag, new_digest
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _suffix_generated_names(build: _Build) -> None:
    renamed: dict[str, str] = {}
    for resource in build.resources:
        name = resource["metadata"]["name"]
        if resource["kind"] == "ConfigMap" and name in build.generated_config_maps:
            resource["metadata"]["name"] = renamed[name] = f"{name}-{config_map_hash(resource['data'])}"
    for pod in _pod_specs(build.resources):
        for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    _rename(source["configMapRef"], renamed)
            for variable in container.get("env", []):
                if "configMapKeyRef" in variable.get("valueFrom", {}):
                    _rename(variable["valueFrom"]["configMapKeyRef"], renamed)
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                _rename(volume["configMap"], renamed)
            for projected in volume.get("projected", {}).get("sources", []):
                if "configMap" in projected:
                    _rename(projected["configMap"], renamed)


def _rename(reference: dict[str, Any], renamed: Mapping[str, str]) -> None:
    reference["name"] = renamed.get(reference["name"], reference["name"])


def config_map_hash(data: Mapping[str, str]) -> str:
    """kustomize's name suffix (api/hasher/hasher.go): SHA-256 of Go's JSON encoding of {"data", "kind", "name"},
    first 10 hex digits, with 0, 1, 3, a and e swapped for letters so that it never reads as a number or a word.

    kustomize looks the name up with ``yaml.Lookup("metadata/name")``, which finds no field of that name, so it
    hashes an empty name: the suffix depends on the data alone (checked against kubectl kustomize v5.5).
    """
    encoded = json.dumps({"data": dict(data), "kind": "ConfigMap", "name": ""}, sort_keys=True, separators=(",", ":"))
    # Go's encoding/json escapes these three for HTML safety; ASCII data is otherwise encoded alike (see tests).
    for character, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        encoded = encoded.replace(character, escaped)
    return hashlib.sha256(encoded.encode()).hexdigest()[:10].translate(_HASH_LETTERS)


def _check_unique(resources: list[Resource], *, where: str) -> None:
    seen: set[tuple[str, str, str]] = set()
    for resource in resources:
        identity = (resource["kind"], resource["metadata"].get("namespace", ""), resource["metadata"]["name"])
        if identity in seen:
            raise UnsupportedFeature(f"{where}: {identity} appears twice")
        seen.add(identity)
