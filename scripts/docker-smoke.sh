#!/usr/bin/env bash
# Builds Dockerfile.gpu on this machine and runs the recipes, `advisor predict`, --resume after
# a kill, and a two-worker --strategy multi-worker run inside it, as the image's own
# unprivileged user. One line per check on stdout (`ok NAME` or `FAIL NAME`); progress and
# the tail of a failing check's log on stderr. Exit status: 0 all passed, 1 a check failed,
# 77 it cannot run here (no docker, no root to start dockerd), as automake's skipped tests.
#
#   make docker-smoke                  # or: sudo scripts/docker-smoke.sh
#
# Where the base image cannot be pulled (no registry reachable), it builds a stand-in from
# Debian's own packages with debootstrap: Debian's python3 (3.11, not the base's 3.12) and
# pip, with this host's CA bundle and pip settings so that pip inside the build reaches the
# package index as it does here. The image is otherwise built exactly as Dockerfile.gpu says.
# Nothing here needs a GPU, and nothing checks one: see README, "GPUs, containers and
# several machines".
#
# Settings (environment): SMOKE_IMAGE (tag to build, keras-recipes:gpu-smoke),
# SMOKE_BASE_IMAGE (a base to use instead of the Dockerfile's, e.g. from a mirror),
# SMOKE_KEEP=1 (keep the temporary folder with the runs and logs).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGE=${SMOKE_IMAGE:-keras-recipes:gpu-smoke}
STANDIN=keras-recipes/stand-in-base:bookworm
NAME=keras-recipes-smoke          # prefix of every container and network made here
NETWORK=$NAME-net
UID_IN_IMAGE=10001
PYTHON=${PYTHON:-python3}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX")
failures=0
started_dockerd=""

say() { echo "$*" >&2; }

cannot_run() {
    say "cannot run the container smoke test here: $1"
    [ -n "${2:-}" ] && say "hint: $2"
    exit 77
}

remove_containers_and_network() {
    local ids
    mapfile -t ids < <(docker ps -aq --filter "name=^$NAME-" 2>/dev/null)
    [ "${#ids[@]}" -gt 0 ] && docker rm -f -v "${ids[@]}" >/dev/null 2>&1
    docker network rm "$NETWORK" >/dev/null 2>&1
    return 0
}

cleanup() {
    trap - EXIT INT TERM
    if [ -n "$started_dockerd" ] || docker info >/dev/null 2>&1; then
        remove_containers_and_network
        docker image rm "$IMAGE-changed" >/dev/null 2>&1
    fi
    if [ -n "$started_dockerd" ]; then
        say "stopping the dockerd this script started (pid $started_dockerd)"
        kill "$started_dockerd" 2>/dev/null && wait "$started_dockerd" 2>/dev/null
    fi
    if [ "${SMOKE_KEEP:-}" = 1 ]; then
        say "runs and logs kept in $WORK"
        return
    fi
    # A debootstrap that failed half-way can leave /proc, /sys or /dev mounted in its tree.
    awk -v work="$WORK/" 'index($2, work) == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r mount; do umount -l "$mount"; done
    if [ "$(id -u)" != 0 ] && [ -d "$WORK/runs" ]; then
        # Without root, the files the container wrote as uid 10001 go through a container.
        docker run --rm --user 0 -v "$WORK:/work" --entrypoint rm "$IMAGE" -rf /work/runs \
            >/dev/null 2>&1
    fi
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One check: `check NAME COMMAND...` runs the command with its output in a log, and prints
# one line. The command's own assertions are shell tests or `in_image python -c`.
check() {
    local name=$1 log="$WORK/logs/$1.log"
    shift
    if "$@" >"$log" 2>&1; then
        echo "ok   $name"
    else
        echo "FAIL $name"
        say "--- last lines of the $name log ---"
        tail -n 15 "$log" >&2
        say "---"
        failures=$((failures + 1))
    fi
}

# --------------------------------------------------------------------------------------
# Docker: a daemon we can talk to, started here when there is none and we are root.
# --------------------------------------------------------------------------------------

command -v docker >/dev/null || cannot_run "the docker command is not installed" \
    "on Debian: apt-get install docker.io debootstrap"
if ! docker info >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || cannot_run "no docker daemon answers, and only root can start one" \
        "start dockerd, or run this as root (sudo make docker-smoke)"
    command -v dockerd >/dev/null || cannot_run "no docker daemon answers and dockerd is missing" \
        "on Debian: apt-get install docker.io"
    say "starting dockerd (log: $WORK/dockerd.log)"
    dockerd --storage-driver overlay2 >"$WORK/dockerd.log" 2>&1 &
    started_dockerd=$!
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$started_dockerd" 2>/dev/null || break
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        tail -n 5 "$WORK/dockerd.log" >&2
        started_dockerd=""
        cannot_run "dockerd did not start (its last lines are above)" \
            "docker needs root with overlay2 and iptables; in a container, a privileged one"
    fi
fi
mkdir -p "$WORK/logs"
remove_containers_and_network   # left over by an earlier run that was killed

# --------------------------------------------------------------------------------------
# The base image: the Dockerfile's own, or a stand-in where it cannot be pulled.
# --------------------------------------------------------------------------------------

DOCKERFILE_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' "$ROOT/Dockerfile.gpu")
BASE=${SMOKE_BASE_IMAGE:-$DOCKERFILE_BASE}

# The host's pip settings, for the stand-in: its config files merged and PIP_* variables,
# less what points at this host's own files (local wheel folders), with `cert` pointing at
# the CA bundle copied into the stand-in.
host_pip_conf() {
    "$PYTHON" - <<'PY'
import configparser, os, sys
from pathlib import Path

files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf"),
         Path.home() / ".pip/pip.conf", Path.home() / ".config/pip/pip.conf"]
if os.environ.get("PIP_CONFIG_FILE"):
    files.append(Path(os.environ["PIP_CONFIG_FILE"]))
merged = configparser.RawConfigParser()
for path in files:
    one = configparser.RawConfigParser()
    try:
        one.read(path)
    except configparser.Error:
        continue
    for section in one.sections():
        if not merged.has_section(section):
            merged.add_section(section)
        for key, value in one.items(section):
            merged.set(section, key, value)
for name, value in os.environ.items():
    if name.startswith("PIP_") and name != "PIP_CONFIG_FILE":
        if not merged.has_section("global"):
            merged.add_section("global")
        merged.set("global", name[4:].lower().replace("_", "-"), value)


def local(value):
    return any(part.startswith(("/", "file:", "~")) for part in value.split())


for section in merged.sections():
    for key, value in merged.items(section):
        if key == "cert":
            merged.set(section, key, "/etc/ssl/certs/ca-certificates.crt")
        elif local(value):
            merged.remove_option(section, key)
if not merged.has_section("global"):
    merged.add_section("global")
merged.set("global", "cert", "/etc/ssl/certs/ca-certificates.crt")
merged.write(sys.stdout)
PY
}

host_ca_bundle() {
    local candidate
    for candidate in "${PIP_CERT:-}" "${SSL_CERT_FILE:-}" "${REQUESTS_CA_BUNDLE:-}" \
            /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
        [ -n "$candidate" ] && [ -f "$candidate" ] && { echo "$candidate"; return; }
    done
}

debian_mirror() {
    local uri
    uri=$(grep -hoE '(URIs:|^deb) +https?://[^ ]*/debian/?( |$)' \
        /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1 |
        grep -oE 'https?://[^ ]*')
    echo "${uri:-http://deb.debian.org/debian}"
}

build_standin() {
    local rootfs="$WORK/rootfs" ca
    ca=$(host_ca_bundle)
    say "building the stand-in base $STANDIN with debootstrap (a few minutes)"
    debootstrap --variant=minbase \
        --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates \
        bookworm "$rootfs" "$(debian_mirror)" || return 1
    [ -n "$ca" ] && cp "$ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    host_pip_conf >"$rootfs/etc/pip.conf" || return 1
    # pip installs into /usr/local as in the python images, not refused by Debian's PEP 668.
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import \
        --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["python3"]' \
        --change "LABEL org.opencontainers.image.title=\"STAND-IN for $DOCKERFILE_BASE\"" \
        --change 'LABEL org.opencontainers.image.description="Debian bookworm with its own python3 and pip, made by scripts/docker-smoke.sh where the real base cannot be pulled; for smoke tests only"' \
        - "$STANDIN" >/dev/null || return 1
    rm -rf "$rootfs"
}

if docker image inspect "$BASE" >/dev/null 2>&1; then
    say "base image: $BASE (present)"
elif timeout 120 docker pull "$BASE" >"$WORK/logs/pull.log" 2>&1; then
    say "base image: $BASE (pulled)"
elif [ -n "${SMOKE_BASE_IMAGE:-}" ]; then
    cannot_run "the base image $BASE cannot be pulled" "check SMOKE_BASE_IMAGE"
else
    say "base image: $BASE cannot be pulled ($(tail -n 1 "$WORK/logs/pull.log"))"
    BASE=$STANDIN
    if docker image inspect "$BASE" >/dev/null 2>&1; then
        say "using the stand-in base built earlier: $BASE"
    else
        [ "$(id -u)" = 0 ] || cannot_run "$BASE cannot be pulled, and only root can build a stand-in" \
            "run this as root, or give a reachable base in SMOKE_BASE_IMAGE"
        command -v debootstrap >/dev/null || cannot_run \
            "$BASE cannot be pulled, and debootstrap (for a stand-in) is not installed" \
            "on Debian: apt-get install debootstrap; or give a base in SMOKE_BASE_IMAGE"
        check stand-in-base build_standin
        docker image inspect "$BASE" >/dev/null 2>&1 || exit 1
    fi
fi

# --------------------------------------------------------------------------------------
# The image: built, built again (all cached), and rebuilt after a change under recipes/
# (TensorFlow's layer must come from the cache). Each time is printed.
# --------------------------------------------------------------------------------------

build() {  # build TAG CONTEXT LOG
    local args=(--build-arg "BASE_IMAGE=$BASE")
    local proxy
    for proxy in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
        [ -n "${!proxy:-}" ] && args+=(--build-arg "$proxy")
    done
    docker build "${args[@]}" -f "$ROOT/Dockerfile.gpu" -t "$1" "$2" >"$3" 2>&1
}

timed_build() {  # timed_build NAME TAG CONTEXT: a check that prints its seconds
    local name=$1 start seconds previous
    previous=$(docker image inspect -f '{{.Id}}' "$2" 2>/dev/null)
    start=$(date +%s)
    if build "$2" "$3" "$WORK/logs/$name.log"; then
        seconds=$(($(date +%s) - start))
        echo "ok   $name (${seconds} s)"
        if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$2")" ]
        then  # the image this build replaced: 7 GB each, left untagged
            docker image rm "$previous" >>"$WORK/logs/$name.log" 2>&1
        fi
        return 0
    fi
    echo "FAIL $name"
    tail -n 25 "$WORK/logs/$name.log" >&2
    failures=$((failures + 1))
    return 1
}

timed_build build "$IMAGE" "$ROOT" || exit 1
timed_build build-again-cached "$IMAGE" "$ROOT"

# A copy of the build context with one recipe changed, so the checkout is left alone.
mkdir -p "$WORK/context"
# -a: file modes are part of the build cache key.
cp -a "$ROOT"/{pyproject.toml,README.md,recipes,advisor,datasets,.dockerignore} "$WORK/context/"
echo "# changed by scripts/docker-smoke.sh" >>"$WORK/context/recipes/mnist_fnn.py"
timed_build rebuild-after-recipe-change "$IMAGE-changed" "$WORK/context"
tensorflow_layer_cached() {
    # The legacy builder prints "Using cache" after each cached step, BuildKit "CACHED".
    # The line after the step's own must say so.
    awk 'seen { found = /Using cache|CACHED/; exit } /tensorflow\[and-cuda\]/ { seen = 1 }
         END { exit !found }' "$WORK/logs/rebuild-after-recipe-change.log"
}
check tensorflow-layer-reused-after-recipe-change tensorflow_layer_cached
docker image rm "$IMAGE-changed" >/dev/null 2>&1
say "image size: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f GB", $1 / 1e9}')"

# --------------------------------------------------------------------------------------
# Inside the container, as its own user, with /runs mounted and the samples read-only.
# --------------------------------------------------------------------------------------

RUNS="$WORK/runs"
for_the_image() {  # for_the_image DIR: made writable for the image's user
    mkdir -p "$1"
    chown "$UID_IN_IMAGE:$UID_IN_IMAGE" "$1" 2>/dev/null || chmod 777 "$1"
}
for_the_image "$RUNS"
DATA=(-v "$ROOT/datasets:/data:ro")

advisor() { docker run --rm --name "$NAME-$RANDOM" -v "$RUNS:/runs" "${DATA[@]}" "$IMAGE" "$@"; }
in_image() {  # in_image PYTHON-CODE: an assertion run with the image's python over /runs
    docker run --rm -v "$RUNS:/runs" --entrypoint python "$IMAGE" -c "$1"
}
finished() {  # finished RUN-DIR MODEL-FILE [EXTRA-PYTHON]: metrics.json and the model saved
    in_image "
import json, pathlib
run = pathlib.Path('$1')
metrics = json.loads((run / 'metrics.json').read_text())
assert (run / '$2').is_file(), sorted(p.name for p in run.iterdir())
print(json.dumps(metrics)[:400])
${3:-}"
}

help_shows_usage() { advisor --help | tee /dev/stderr | grep -q "run"; }
runs_unprivileged() {
    [ "$(docker run --rm --entrypoint id "$IMAGE" -u)" = "$UID_IN_IMAGE" ]
}
dependencies_consistent() { docker run --rm --entrypoint pip "$IMAGE" check; }
doctor_reports() {
    advisor doctor --json >"$WORK/doctor.json" && cat "$WORK/doctor.json" &&
        grep -q '"tensorflow"' "$WORK/doctor.json" && grep -q '"gpus"' "$WORK/doctor.json"
}
mnist_fnn() {
    advisor run mnist-fnn --epochs 1 --max-samples 2000 --quiet --output /runs/fnn &&
        finished /runs/fnn model.keras "assert metrics['test']['accuracy'] > 0.5, metrics['test']"
}
linear_regression() {
    advisor run linear-regression --data /data/autompg.csv --quiet --output /runs/lin &&
        finished /runs/lin model.keras
}
lstm_forecaster() {
    advisor run lstm-forecaster --epochs 1 --max-windows 500 --quiet --output /runs/lstm &&
        finished /runs/lstm model.keras
}
conditional_gan() {
    advisor run conditional-gan --epochs 1 --max-samples 512 --classifier-epochs 1 \
        --samples-per-class 10 --quiet --output /runs/gan && finished /runs/gan generator.keras
}
sgd_classifier() {  # streams a generated CSV through pyarrow's parser (the default)
    advisor run sgd-classifier --rows 20000 --block-kib 256 --quiet --output /runs/sgd &&
        finished /runs/sgd model.keras \
            "assert metrics['test']['accuracy'] > metrics['bayes_accuracy'] - 0.03, metrics"
}
predict_writes_a_prediction_column() {
    advisor predict /runs/lin --data /data/autompg.csv --output /runs/predictions.csv &&
        in_image "
import csv
rows = list(csv.DictReader(open('/runs/predictions.csv')))
assert rows and 'prediction' in rows[0], rows[:1]
float(rows[0]['prediction'])
print(len(rows), 'rows predicted')"
}

resume_after_docker_kill() {
    local container=$NAME-resume epochs=12
    docker run -d --name "$container" -v "$RUNS:/runs" "$IMAGE" run mnist-fnn \
        --epochs $epochs --batch-size 16 --quiet --output /runs/resume >/dev/null || return 1
    # Killed once two epochs are checkpointed, as a machine that loses power mid-run.
    local meta="$RUNS/resume/checkpoint/training_metadata.json" epoch=0
    for _ in $(seq 600); do
        epoch=$(grep -oE '"epoch": *[0-9]+' "$meta" 2>/dev/null | grep -oE '[0-9]+$')
        [ "${epoch:-0}" -ge 2 ] && break
        [ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] || break
        sleep 0.2
    done
    docker kill "$container" >/dev/null
    docker logs "$container"
    docker rm -v "$container" >/dev/null
    echo "killed after epoch ${epoch:-0} of $epochs"
    [ "${epoch:-0}" -ge 2 ] && [ ! -e "$RUNS/resume/metrics.json" ] || return 1
    advisor run mnist-fnn --resume /runs/resume --quiet &&
        finished /runs/resume model.keras "
lines = (run / 'history.csv').read_text().splitlines()
assert len(lines) == 1 + $epochs, len(lines)   # every epoch, those before the kill too
assert not (run / 'checkpoint').exists()"
}

two_workers_only_the_chief_writes() {
    docker network create "$NETWORK" >/dev/null || return 1
    local cluster="{\"worker\": [\"$NAME-worker0:12345\", \"$NAME-worker1:12345\"]}" i
    for i in 0 1; do
        # Each worker has its own /runs, as two machines would.
        for_the_image "$RUNS/worker$i"
        docker run -d --name "$NAME-worker$i" --hostname "$NAME-worker$i" \
            --network "$NETWORK" -v "$RUNS/worker$i:/runs" \
            -e "TF_CONFIG={\"cluster\": $cluster, \"task\": {\"type\": \"worker\", \"index\": $i}}" \
            "$IMAGE" run mnist-fnn --strategy multi-worker --epochs 1 --max-samples 1000 \
            --quiet --output /runs/mw >/dev/null || return 1
    done
    local codes=()
    for i in 0 1; do
        codes+=("$(timeout 600 docker wait "$NAME-worker$i")")
        echo "--- worker$i (exit ${codes[$i]})"
        docker logs "$NAME-worker$i" 2>&1 | tail -n 20
    done
    [ "${codes[0]}" = 0 ] && [ "${codes[1]}" = 0 ] || return 1
    docker logs "$NAME-worker1" 2>&1 | grep -q "the chief worker writes the run" || return 1
    [ -z "$(ls -A "$RUNS/worker1")" ] || { ls -R "$RUNS/worker1"; return 1; }
    finished /runs/worker0/mw model.keras "
assert metrics['engine']['strategy'] == 'MultiWorkerMirroredStrategy', metrics['engine']
assert metrics['engine']['replicas'] == 2, metrics['engine']"
}

check help help_shows_usage
check runs-as-uid-$UID_IN_IMAGE runs_unprivileged
check pip-check dependencies_consistent
check doctor doctor_reports
check run-mnist-fnn mnist_fnn
check run-linear-regression-on-mounted-csv linear_regression
check run-lstm-forecaster lstm_forecaster
check run-conditional-gan conditional_gan
check run-sgd-classifier sgd_classifier
check predict predict_writes_a_prediction_column
check resume-after-docker-kill resume_after_docker_kill
check multi-worker-two-containers two_workers_only_the_chief_writes

if [ "$failures" -gt 0 ]; then
    say "$failures check(s) failed"
    exit 1
fi
say "all checks passed"
