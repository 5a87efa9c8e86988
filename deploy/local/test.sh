#!/usr/bin/env bash
# README command 2: run the test suite against a real RabbitMQ. Arguments go to pytest; without
# any, pytest takes its defaults from [tool.pytest.ini_options] in pyproject.toml.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root="$(foro_repo_root)"
cd "${root}"
foro_venv
foro_ensure_rabbitmq
# Tools beside Python that tests use: promtool (deploy/observability) and chromium (browser tests).
foro_ensure_tools
foro_log "running pytest${*:+ $*}"
# exec: this script's exit status is pytest's (5 means no test was collected).
exec "${root}/.venv/bin/python" -m pytest "$@"
