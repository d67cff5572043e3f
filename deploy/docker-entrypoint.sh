#!/bin/sh
# The image's entry point: `serve` migrates the database first (a second run
# finds nothing to do); any other command (`worker`, `mail listen`,
# `audit verify`, ...) runs as given. With several app replicas, start one
# first or run `keyholder db upgrade` as a release step (docs/production.md):
# two upgrades at the same moment would race.
set -eu

# Metrics files of an earlier run of this container must not add up with ours.
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi

if [ "${1:-}" = "serve" ]; then
    keyholder db upgrade
fi
exec keyholder "$@"
