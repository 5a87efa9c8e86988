#!/usr/bin/env bash
# README command 1: run foro locally — RabbitMQ, the embedded MongoDB-compatible store and the five
# services. Arguments go to `foro up` (shared/cli/stack.py, the launcher is shared/devstack.py),
# which restarts whatever dies and, on Ctrl-C, stops the services first and the database last.
# `exec`: the launcher gets the signals.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root="$(foro_repo_root)"
cd "${root}"
foro_venv
foro_ensure_rabbitmq
foro_ensure_pdf_tools  # pango: reporting prints the Memoria with WeasyPrint
exec "${root}/.venv/bin/foro" up "$@"
