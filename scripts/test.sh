#!/usr/bin/env bash
# Set up and run the whole test suite: every tox env (README command 2; .ci/run calls it).
#
# Needs only python3 (3.11) and pip.  More things are used when they can be had, and
# a NOTICE says so before the run and again at the end when they cannot:
#   - python3.12, for the integration-py312 env (Django 6 needs Python 3.12): without it
#     tox reports that env as skipped (its skip_missing_interpreters), not failed;
#   - chromium and chromedriver, for the browser tests (the sample site's in the integration
#     envs, the third-party sites' in thirdparty): installed here from Debian's packages
#     when run as root (or with passwordless sudo) where apt-get is; without them those
#     tests are skipped, with the reason in pytest's summary.
#   - haproxy, for the load-balancer test (core and integration envs): installed the same
#     way; without it that test is skipped, with the reason.
#   - a C compiler (gcc), for the compiled env's wheel: installed the same way; without it
#     that env fails (its module cannot be compiled).
# The envs run two at a time (tox run-parallel, output captured per env); afterwards each
# env's pytest summary line is printed, then the total.  The exit code is tox's.
#
# Usage: bash scripts/test.sh [-e ENV[,ENV...]] [other tox options] [-- pytest options]
set -uo pipefail
cd "$(dirname "$0")/.."

notices=()
notice() {
    notices+=("$1")
    printf 'test.sh: NOTICE: %s\n' "$1"
}

# Which envs will run: those named with -e/--env, else all of env_list.
selected=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        --) break ;;
        -e | --env) selected+="${args[i + 1]:-},"; i=$((i + 1)) ;;
        --env=*) selected+="${args[i]#--env=}," ;;
        -e?*) selected+="${args[i]#-e}," ;;
    esac
done
runs() {  # runs ENV-PREFIX: will an env starting with this name run?
    [ -z "$selected" ] || [[ ",$selected" == *",$1"* ]] || [[ ",$selected" == *",ALL,"* ]]
}

# python3.12 may be installed but not on PATH (pyenv): find it for tox.
if ! python3.12 --version >/dev/null 2>&1; then
    for dir in "$HOME"/.pyenv/versions/3.12*/bin /opt/python/3.12*/bin; do
        if [ -x "$dir/python3.12" ]; then PATH="$dir:$PATH"; break; fi
    done
fi
export PATH
if runs integration-py312 && ! python3.12 --version >/dev/null 2>&1; then
    notice "python3.12 not found: integration-py312 (Django 6, Python 3.12) is skipped; install Python 3.12 to run it"
fi

# apt_install WHY PACKAGE...: Debian's packages, where apt-get is and this runs as root (or
# sudo needs no password); says what it installs and why.  Fails only when it cannot try:
# the caller checks whether it got what it wanted.
apt_install() {
    local why="$1" as_root=()
    shift
    if [ "$(id -u)" != 0 ]; then as_root=(sudo -n); fi
    command -v apt-get >/dev/null 2>&1 && "${as_root[@]}" true 2>/dev/null || return 1
    echo "test.sh: installing $* with apt-get ($why)"
    { "${as_root[@]}" apt-get update -qq \
        && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >/dev/null 2>&1 || true
}
cannot="installing it needs apt-get, as root or with passwordless sudo"

# The browser tests: Debian's chromium and chromedriver (as .ci/run had it).
have_browser() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }
if { runs integration || runs thirdparty; } && ! have_browser; then
    why="installing them needs apt-get, as root or with passwordless sudo"
    if apt_install "the browser tests" chromium chromium-driver; then
        why="apt-get install chromium chromium-driver failed"
    fi
    if ! have_browser; then
        notice "chromium or chromedriver is missing ($why): the browser tests are skipped; install Debian's chromium and chromium-driver to run them"
    fi
fi

# The load-balancer test (tests/test_loadbalancer.py, core and integration envs): Debian's haproxy.
have_haproxy() { command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; }
if { runs core || runs integration; } && ! have_haproxy; then
    apt_install "the load-balancer test" haproxy
    if ! have_haproxy; then
        notice "haproxy is missing ($cannot): the load-balancer test is skipped; install Debian's haproxy to run it"
    fi
fi

# The compiled env (and tests/test_install.py in core): mypyc compiles wsgihub.accesslines
# with the machine's C compiler.  Debian's gcc when there is none.
have_cc() { command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; }
if { runs compiled || runs core; } && ! have_cc; then
    apt_install "wsgihub's compiled wheel" gcc
    if ! have_cc; then
        notice "no C compiler ($cannot): the compiled env fails, as its wheel cannot be compiled; install Debian's gcc"
    fi
fi

# tox itself, in a venv of its own (tox.ini's `requires` names the version it needs).
if ! .cache/toolenv/bin/python -c '
import importlib.metadata as m, sys
sys.exit(tuple(int(p) for p in m.version("tox").split(".")[:2]) < (4, 56))' 2>/dev/null; then
    python3 -m venv .cache/toolenv
    .cache/toolenv/bin/pip install --quiet --disable-pip-version-check "tox>=4.56" || exit 1
fi

journal="$(mktemp "${TMPDIR:-/tmp}/wsgihub-tox-XXXXXX.json")"
trap 'rm -f "$journal"' EXIT
.cache/toolenv/bin/tox run-parallel --parallel 2 --parallel-no-spinner \
    --result-json "$journal" "$@"
status=$?

# Each env's pytest summary lines (run-parallel shows only OK/FAIL), the notices, the total.
if [ -s "$journal" ]; then
    .cache/toolenv/bin/python scripts/tox_summary.py "$journal" ${notices[@]+"${notices[@]}"} || true
fi
exit "$status"
