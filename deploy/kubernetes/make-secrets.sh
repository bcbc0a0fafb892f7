#!/bin/sh
# Writes the files kustomization.yaml makes Secrets of: a CurveZMQ key pair for the gateway,
# one shared by the GPU workers, and the API token. Run once, with the project's Python:
#   PYTHON=.venv/bin/python deploy/kubernetes/make-secrets.sh [OUT_DIR]
# OUT_DIR defaults to deploy/kubernetes/secrets (ignored by git). Keys already there are
# kept: new ones would lock out the workers that hold the old ones.
set -eu
out=${1:-$(dirname "$0")/secrets}
python=${PYTHON:-python3}
if [ -e "$out/gateway.key_secret" ]; then
    echo "$out already holds keys; kept (remove the folder to make new ones)" >&2
    exit 0
fi
"$python" -m gateway.workers.curve_keys "$out" gateway
"$python" -m gateway.workers.curve_keys "$out" worker
(umask 077 && "$python" -c 'import secrets, sys; sys.stdout.write(secrets.token_urlsafe(32))' >"$out/api-token")
