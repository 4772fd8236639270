"""The map in docs/architecture.md matches the tree: every path it names exists, and every feature package's modules
are the ones it lists, no more and no fewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPOSITORY / "docs" / "architecture.md"
FEATURES = ("customers", "access", "integrations")
FEATURE_LAYERS = ("application", "adapters/http", "adapters/sql", "adapters/memory")


def _map_section() -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    start = text.index("## The map: layers across, parts of the CRM down")
    end = text.index("### Where a new part goes")
    return text[start:end]


def _listed_modules() -> dict[str, set[str]]:
    """``package/`` followed by a colon and its modules, as each cell of the map's table writes them."""
    listed: dict[str, set[str]] = {}
    for package, names in re.findall(r"`([a-z_/]+/)`: ([^|]+)", _map_section()):
        plain = re.sub(r"\s*\([^)]*\)", "", names)
        listed[package.rstrip("/")] = {name.strip() for name in plain.split(", ")}
    return listed


def test_every_path_the_map_names_exists() -> None:
    paths = set(re.findall(r"`((?:application|adapters|domain|crm|tests|migrations)/[a-z_/.]*)`", _map_section()))
    assert len(paths) > 30
    missing = sorted(path for path in paths if not (REPOSITORY / path).exists())
    assert missing == []


@pytest.mark.parametrize("layer", FEATURE_LAYERS)
@pytest.mark.parametrize("feature", FEATURES)
def test_the_map_lists_each_feature_package_whole(layer: str, feature: str) -> None:
    package = REPOSITORY / layer / feature
    on_disk = {path.stem for path in package.glob("*.py") if path.name != "__init__.py"}
    assert on_disk, f"{layer}/{feature} is missing"
    assert _listed_modules()[f"{layer}/{feature}"] == on_disk


def test_no_module_in_a_feature_package_repeats_the_feature_name() -> None:
    prefixed = [
        f"{layer}/{feature}/{path.name}"
        for layer in FEATURE_LAYERS
        for feature in FEATURES
        for path in (REPOSITORY / layer / feature).glob("*.py")
        if path.stem.startswith((feature.rstrip("s") + "_", feature + "_"))
    ]
    assert prefixed == []
