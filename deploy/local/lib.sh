# shellcheck shell=bash
# Helpers shared by deploy/local/up.sh, deploy/local/test.sh and .ci/run.
#
# Source it; don't run it. Safe under `set -euo pipefail`: every function reports failure through
# its return status and a message on stderr, and never exits the caller's shell itself.
#
#   foro_repo_root        print the repository root (the folder holding pyproject.toml)
#   foro_find_python      print the path of a Python >= 3.12 interpreter
#   foro_venv             create or refresh <root>/.venv and install the project with its test extras
#   foro_ensure_rabbitmq  make sure the broker in FORO_BROKER_URL (default: local RabbitMQ) answers
#   foro_ensure_tools     promtool (from Debian's prometheus package, unpacked into .foro/tools),
#                         Debian's chromium for the browser tests, pango for WeasyPrint (the
#                         Memoria's PDF) and poppler-utils (pdftoppm, the PDF visual tests), when missing
#
# Environment it reads:
#   FORO_PYTHON      an interpreter to use instead of searching (must still be >= 3.12)
#   FORO_BROKER_URL  amqp[s]://user:pass@host:port/vhost; default amqp://guest:guest@127.0.0.1:5672/
#   PYENV_ROOT       where pyenv keeps its versions when `pyenv` itself is not on PATH

# The repository root is fixed by where this file lives (deploy/local/lib.sh), not by the caller's
# working directory, so the scripts work from anywhere.
_FORO_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_FORO_MIN_PYTHON="3.12"
_FORO_RABBITMQ_WAIT_SECONDS="${FORO_RABBITMQ_WAIT_SECONDS:-90}"

foro_log() {
    printf 'foro: %s\n' "$*" >&2
}

foro_error() {
    printf 'foro: error: %s\n' "$*" >&2
}

foro_repo_root() {
    (cd "${_FORO_LIB_DIR}/../.." && pwd)
}

# Prints the interpreter's real path if it runs and is >= 3.12 with a working venv module; fails
# quietly otherwise. Running it is the only reliable test: a pyenv shim exists on PATH for every
# installed version but refuses to run unless PYENV_VERSION (or a .python-version) selects it.
_foro_python_ok() {
    local candidate="$1"
    "${candidate}" - 2>/dev/null <<'PY'
import sys
if sys.version_info < (3, 12):
    raise SystemExit(1)
import ensurepip, venv  # noqa: F401  (Debian ships these separately, in python3.X-venv)
print(sys.executable or "")
PY
}

foro_find_python() {
    local candidate resolved pyenv_root
    local -a candidates=()

    if [[ -n "${FORO_PYTHON:-}" ]]; then
        if resolved="$(_foro_python_ok "${FORO_PYTHON}")" && [[ -n "${resolved}" ]]; then
            printf '%s\n' "${resolved}"
            return 0
        fi
        foro_error "FORO_PYTHON=${FORO_PYTHON} is not a working Python >= ${_FORO_MIN_PYTHON} with the venv module"
        return 1
    fi

    for candidate in python3.13 python3.12 python3; do
        if command -v "${candidate}" >/dev/null 2>&1; then
            candidates+=("$(command -v "${candidate}")")
        fi
    done

    if command -v pyenv >/dev/null 2>&1; then
        pyenv_root="$(pyenv root 2>/dev/null || true)"
    fi
    pyenv_root="${pyenv_root:-${PYENV_ROOT:-${HOME}/.pyenv}}"
    if [[ -d "${pyenv_root}/versions" ]]; then
        # Newest first: 3.13.0 before 3.12.9 before 3.12.1 (sort -V understands version numbers).
        while IFS= read -r candidate; do
            [[ -n "${candidate}" ]] && candidates+=("${candidate}")
        done < <(
            for candidate in "${pyenv_root}"/versions/3.1[2-9]*/bin/python3; do
                [[ -x "${candidate}" ]] && printf '%s\n' "${candidate}"
            done | sort -V -r
        )
    fi

    for candidate in "${candidates[@]}"; do
        if resolved="$(_foro_python_ok "${candidate}")" && [[ -n "${resolved}" ]]; then
            printf '%s\n' "${resolved}"
            return 0
        fi
    done

    foro_error "no Python >= ${_FORO_MIN_PYTHON} (with the venv module) found."
    foro_error "tried: ${candidates[*]:-nothing on PATH} and ${pyenv_root}/versions/3.1[2-9]*"
    foro_error "install one, then run this again:"
    foro_error "  with pyenv:  pyenv install 3.12   (or: pyenv install 3.13)"
    foro_error "  on Debian 13 / Ubuntu 24.04+:  apt-get install -y python3 python3-venv"
    foro_error "  or point at one you have:  FORO_PYTHON=/path/to/python3.12 $0"
    return 1
}

# sha256 of pyproject.toml followed by constraints.txt: the stamp that says the venv is current.
_foro_deps_hash() {
    local python="$1" root="$2"
    "${python}" - "${root}/pyproject.toml" "${root}/constraints.txt" <<'PY'
import hashlib, pathlib, sys
digest = hashlib.sha256()
for name in sys.argv[1:]:
    path = pathlib.Path(name)
    if path.is_file():
        digest.update(path.read_bytes())
print(digest.hexdigest())
PY
}

foro_venv() {
    local root venv python want have=""
    root="$(foro_repo_root)" || return 1
    venv="${root}/.venv"

    if [[ ! -f "${root}/pyproject.toml" ]]; then
        foro_error "${root}/pyproject.toml not found: nothing to install"
        return 1
    fi

    if [[ -x "${venv}/bin/python" ]] && _foro_python_ok "${venv}/bin/python" >/dev/null \
        && "${venv}/bin/python" -m pip --version >/dev/null 2>&1; then
        foro_log "using ${venv} ($("${venv}/bin/python" -c 'import platform; print(platform.python_version())'))"
    else
        python="$(foro_find_python)" || return 1
        if [[ -e "${venv}" ]]; then
            foro_log "recreating ${venv}: missing, broken or older than Python ${_FORO_MIN_PYTHON}"
            rm -rf -- "${venv}"
        fi
        foro_log "creating ${venv} with ${python}"
        "${python}" -m venv "${venv}" || { foro_error "could not create ${venv}"; return 1; }
    fi

    want="$(_foro_deps_hash "${venv}/bin/python" "${root}")" || return 1
    if [[ -f "${venv}/.foro-stamp" ]]; then
        have="$(<"${venv}/.foro-stamp")"
    fi
    if [[ "${want}" == "${have}" ]]; then
        foro_log "dependencies up to date (pyproject.toml and constraints.txt unchanged)"
        return 0
    fi

    local -a constraint=()
    if [[ -f "${root}/constraints.txt" ]]; then
        constraint=(-c "${root}/constraints.txt")
    else
        foro_log "warning: ${root}/constraints.txt not found; installing unpinned"
    fi

    foro_log "upgrading pip"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "${venv}/bin/python" -m pip install --quiet --upgrade pip \
        || { foro_error "pip upgrade failed"; return 1; }
    foro_log "installing foro and its test extras (pip install ${constraint[*]:+-c constraints.txt }-e .[test])"
    (cd "${root}" && PIP_DISABLE_PIP_VERSION_CHECK=1 "${venv}/bin/python" -m pip install --quiet \
        "${constraint[@]}" -e ".[test]") \
        || { foro_error "pip install failed (see the messages above)"; return 1; }
    printf '%s\n' "${want}" >"${venv}/.foro-stamp"
    foro_log "dependencies installed"
}

# Succeeds if host:port accepts a TCP connection within about three seconds.
# shellcheck disable=SC2016  # $1 and $2 are expanded by the inner bash, on purpose
foro_tcp_open() {
    local host="$1" port="$2"
    if command -v timeout >/dev/null 2>&1; then
        timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${host}" "${port}" 2>/dev/null
    else
        bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${host}" "${port}" 2>/dev/null
    fi
}

# Splits FORO_BROKER_URL into host and port (credentials are never printed). Sets the globals
# _FORO_BROKER_HOST and _FORO_BROKER_PORT.
_foro_broker_address() {
    local url="${FORO_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/}"
    local scheme="${url%%://*}" rest hostport
    rest="${url#*://}"
    hostport="${rest%%/*}"
    hostport="${hostport%%\?*}"
    hostport="${hostport##*@}"
    local default_port=5672
    [[ "${scheme}" == "amqps" ]] && default_port=5671
    if [[ "${hostport}" == \[* ]]; then # [::1]:5672
        _FORO_BROKER_HOST="${hostport%%]*}"
        _FORO_BROKER_HOST="${_FORO_BROKER_HOST#[}"
        rest="${hostport#*]}"
        _FORO_BROKER_PORT="${rest#:}"
    elif [[ "${hostport}" == *:* ]]; then
        _FORO_BROKER_HOST="${hostport%%:*}"
        _FORO_BROKER_PORT="${hostport##*:}"
    else
        _FORO_BROKER_HOST="${hostport}"
        _FORO_BROKER_PORT=""
    fi
    _FORO_BROKER_HOST="${_FORO_BROKER_HOST:-127.0.0.1}"
    _FORO_BROKER_PORT="${_FORO_BROKER_PORT:-${default_port}}"
}

_foro_rabbitmq_help() {
    foro_error "RabbitMQ is not answering on ${_FORO_BROKER_HOST}:${_FORO_BROKER_PORT}. To fix it, either:"
    foro_error "  install and start it (Debian/Ubuntu, as root):"
    foro_error "    apt-get update && apt-get install -y rabbitmq-server"
    foro_error "    rabbitmq-server -detached"
    foro_error "    until rabbitmqctl await_startup; do sleep 2; done"
    foro_error "  or run it in Docker:  docker compose up -d rabbitmq"
    foro_error "  or point FORO_BROKER_URL at a broker that is running (amqp://user:pass@host:5672/)"
}

# Succeeds if the broker completes an AMQP handshake within 15 s; status 3 when it stays silent
# (wedged), 1 when it answers with a refusal. An open TCP port is not
# enough: a wedged node (seen with RabbitMQ 3.10 after many quorum queues) accepts connections
# and never answers. Needs the venv (aio-pika); without it there is nothing to check with.
_foro_amqp_answers() {
    local python
    python="$(foro_repo_root)/.venv/bin/python"
    [[ -x "${python}" ]] || return 0
    FORO_BROKER_URL="${FORO_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672/}" \
        timeout 25 "${python}" - >/dev/null 2>&1 <<'PY'
import asyncio, os
import aio_pika

async def main() -> int:
    try:
        connection = await asyncio.wait_for(aio_pika.connect(os.environ["FORO_BROKER_URL"]), 15)
    except TimeoutError:
        return 3  # silent: wedged
    except Exception:
        return 1  # it answered, with a refusal (credentials, vhost): not a wedge
    await connection.close()
    return 0

raise SystemExit(asyncio.run(main()))
PY
}

# A local node that accepts TCP but never answers AMQP: restart it; if it wedges again while
# recovering its queues, keep its data aside (never deleted) and start it empty. Only for the
# machine's own node, as root (a development or CI machine, where its queues are test leftovers).
_foro_repair_wedged_rabbitmq() {
    local host="$1" port="$2" pid mnesia="${RABBITMQ_MNESIA_BASE:-/var/lib/rabbitmq/mnesia}" attempt
    case "${host}" in
        localhost | 127.* | ::1) ;;
        *) foro_error "the broker is not on this machine: repair it where it runs"; return 1 ;;
    esac
    if [[ "$(id -u)" != "0" ]] || ! command -v rabbitmq-server >/dev/null 2>&1; then
        foro_error "restart it (as root: kill the node, then rabbitmq-server -detached)"
        return 1
    fi
    for attempt in restart reset; do
        pid="$(pgrep -u rabbitmq -f 'beam.smp.*-s rabbit boot' | head -n 1 || true)"
        if [[ -n "${pid}" ]]; then
            foro_log "stopping the wedged RabbitMQ node (pid ${pid})"
            kill -9 "${pid}" || true
            sleep 2
        fi
        if [[ "${attempt}" == "reset" && -d "${mnesia}" ]]; then
            foro_log "it wedged again while recovering: its data goes to ${mnesia}.wedged-$(date +%s); starting it empty"
            mv "${mnesia}" "${mnesia}.wedged-$(date +%s)"
            mkdir -p "${mnesia}" && chown rabbitmq:rabbitmq "${mnesia}" 2>/dev/null || true
        fi
        rabbitmq-server -detached >&2 || true
        local deadline=$((SECONDS + _FORO_RABBITMQ_WAIT_SECONDS))
        while ((SECONDS < deadline)); do
            if foro_tcp_open "${host}" "${port}" && _foro_amqp_answers; then
                foro_log "RabbitMQ answers AMQP on ${host}:${port} again (${attempt})"
                return 0
            fi
            sleep 3
        done
    done
    foro_error "RabbitMQ still does not answer AMQP on ${host}:${port}"
    _foro_rabbitmq_help
    return 1
}

foro_ensure_rabbitmq() {
    local host port
    _foro_broker_address
    host="${_FORO_BROKER_HOST}"
    port="${_FORO_BROKER_PORT}"

    if foro_tcp_open "${host}" "${port}"; then
        local answer=0
        _foro_amqp_answers || answer=$?
        if ((answer != 3)); then
            # Answering, or refusing (wrong credentials): the tests will say which, by name.
            foro_log "RabbitMQ answers on ${host}:${port}"
            return 0
        fi
        foro_error "RabbitMQ on ${host}:${port} accepts TCP but stays silent in the AMQP handshake"
        _foro_repair_wedged_rabbitmq "${host}" "${port}"
        return
    fi

    case "${host}" in
        localhost | 127.* | ::1) ;;
        *)
            foro_error "the broker in FORO_BROKER_URL (${host}:${port}) does not accept connections;"
            foro_error "it is not on this machine, so start it where it runs or fix FORO_BROKER_URL"
            return 1
            ;;
    esac

    # Debian installs the server scripts in /usr/sbin, which a non-root PATH may lack.
    local server="" ctl=""
    server="$(PATH="${PATH}:/usr/sbin:/usr/local/sbin" command -v rabbitmq-server || true)"
    if [[ -z "${server}" ]]; then
        if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
            foro_log "rabbitmq-server is not installed; installing it with apt-get"
            if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server; } >&2; then
                foro_error "apt-get install rabbitmq-server failed"
                _foro_rabbitmq_help
                return 1
            fi
            server="$(PATH="${PATH}:/usr/sbin:/usr/local/sbin" command -v rabbitmq-server || true)"
            # The package's postinst may have started it already.
            if foro_tcp_open "${host}" "${port}"; then
                foro_log "RabbitMQ answers on ${host}:${port}"
                return 0
            fi
        fi
        if [[ -z "${server}" ]]; then
            foro_error "rabbitmq-server is not installed (and this is not a root shell with apt-get)"
            _foro_rabbitmq_help
            return 1
        fi
    fi
    ctl="$(dirname "${server}")/rabbitmqctl"
    [[ -x "${ctl}" ]] || ctl="rabbitmqctl"

    foro_log "starting RabbitMQ (${server} -detached)"
    local start_status=0 started=${SECONDS}
    # A non-zero status means either a node is already booting (worth waiting for) or we may not
    # start one (Debian's wrapper wants root): give it a short grace period instead of the full wait.
    "${server}" -detached >&2 || start_status=$?
    local deadline=$((SECONDS + _FORO_RABBITMQ_WAIT_SECONDS))
    if ((start_status != 0)); then
        foro_log "rabbitmq-server -detached exited with ${start_status}; checking whether a node is booting"
        deadline=$((SECONDS + 15))
    fi

    # await_startup fails at once until the Erlang node is reachable, so poll it, bounded.
    while ((SECONDS < deadline)); do
        if "${ctl}" --quiet --timeout 10 await_startup >/dev/null 2>&1 && foro_tcp_open "${host}" "${port}"; then
            foro_log "RabbitMQ is up on ${host}:${port} after $((SECONDS - started))s"
            return 0
        fi
        sleep 2
    done

    foro_error "RabbitMQ did not come up within $((SECONDS - started))s (logs: /var/log/rabbitmq/)"
    if [[ "$(id -u)" != "0" ]]; then
        foro_error "this shell is not root: Debian's rabbitmq-server must be started with sudo"
    fi
    _foro_rabbitmq_help
    return 1
}

# promtool without a Prometheus server: Debian's `prometheus` package, downloaded and unpacked (not
# installed) into <root>/.foro/tools, so nothing starts. Prints the path of promtool.
foro_promtool() {
    local root tools deb
    root="$(foro_repo_root)" || return 1
    tools="${root}/.foro/tools"
    if command -v promtool >/dev/null 2>&1; then
        command -v promtool
        return 0
    fi
    if [[ -x "${tools}/usr/bin/promtool" ]]; then
        printf '%s\n' "${tools}/usr/bin/promtool"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
        foro_error "promtool is missing and this is not a Debian system (apt-get download prometheus)"
        return 1
    fi
    mkdir -p "${tools}/deb" || return 1
    foro_log "fetching promtool: apt-get download prometheus, unpacked into ${tools}"
    if ! (cd "${tools}/deb" && apt-get download prometheus >&2 2>/dev/null); then
        # The package lists may be missing or stale on a fresh machine.
        if [[ "$(id -u)" == "0" ]]; then
            apt-get update -qq >&2 || true
        fi
        (cd "${tools}/deb" && apt-get download prometheus >&2) \
            || { foro_error "apt-get download prometheus failed"; return 1; }
    fi
    deb="$(ls -t "${tools}"/deb/prometheus_*.deb 2>/dev/null | head -n 1)"
    [[ -n "${deb}" ]] || { foro_error "no prometheus_*.deb in ${tools}/deb"; return 1; }
    dpkg -x "${deb}" "${tools}" || { foro_error "dpkg -x ${deb} failed"; return 1; }
    rm -rf -- "${tools}/deb"
    [[ -x "${tools}/usr/bin/promtool" ]] || { foro_error "the package held no usr/bin/promtool"; return 1; }
    printf '%s\n' "${tools}/usr/bin/promtool"
}

# The tools some tests need beside Python: promtool (deploy/observability checks; exported as
# FORO_PROMTOOL), Debian's chromium (browser tests) and node with npm (the AsyncAPI parser),
# installed with apt-get when root. A tool
# that cannot be had is reported, not fatal: the tests that need it say so.
foro_ensure_tools() {
    local promtool
    if promtool="$(foro_promtool)"; then
        export FORO_PROMTOOL="${promtool}"
        foro_log "promtool: ${promtool}"
    fi
    if ! command -v chromium >/dev/null 2>&1; then
        if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
            foro_log "chromium is not installed; installing it with apt-get"
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2 \
                || foro_error "apt-get install chromium failed"
        else
            foro_error "chromium is missing (as root: apt-get install -y chromium)"
        fi
    fi
    if command -v chromium >/dev/null 2>&1; then
        foro_log "chromium: $(command -v chromium)"
    fi
    foro_ensure_pdf_tools
    # node and npm: the official AsyncAPI parser checks deploy/asyncapi (tests/integration/
    # test_asyncapi_parser.py installs @asyncapi/parser from npm into a cache).
    if ! command -v npm >/dev/null 2>&1; then
        if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
            foro_log "npm is not installed; installing nodejs and npm with apt-get"
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; } >&2 \
                || foro_error "apt-get install nodejs npm failed"
        else
            foro_error "npm is missing (as root: apt-get install -y nodejs npm)"
        fi
    fi
    if command -v npm >/dev/null 2>&1; then
        foro_log "node $(node --version 2>/dev/null), npm $(npm --version 2>/dev/null)"
    fi
    return 0
}

# WeasyPrint (the Memoria's and base document's PDF) loads pango, pangoft2 and harfbuzz's subsetter
# at run time (its documentation's Debian list); the visual tests render PDF pages with poppler's
# pdftoppm. Installed with apt-get when root; reported when they cannot be had.
foro_ensure_pdf_tools() {
    local missing=() library
    for library in libpango-1.0.so.0:libpango-1.0-0 libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
        libharfbuzz-subset.so.0:libharfbuzz-subset0; do
        if ! ldconfig -p 2>/dev/null | grep -q "${library%%:*}"; then
            missing+=("${library#*:}")
        fi
    done
    if ! command -v pdftoppm >/dev/null 2>&1; then
        missing+=(poppler-utils)
    fi
    if ((${#missing[@]} == 0)); then
        foro_log "pango (WeasyPrint) and pdftoppm: present"
        return 0
    fi
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        foro_log "installing ${missing[*]} with apt-get"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 \
            || foro_error "apt-get install ${missing[*]} failed"
    else
        foro_error "missing ${missing[*]} (as root: apt-get install -y ${missing[*]})"
    fi
    return 0
}
