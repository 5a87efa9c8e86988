#!/usr/bin/env bash
# README command 1: run foro locally — RabbitMQ, the embedded MongoDB-compatible store and the five
# services. Arguments go to `python -m shared.devstack up`.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root="$(foro_repo_root)"
cd "${root}"
foro_venv
foro_ensure_rabbitmq
exec "${root}/.venv/bin/python" -m shared.devstack up "$@"
