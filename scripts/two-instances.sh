#!/usr/bin/env bash
# Two camr-server processes on one PostgreSQL database and one data folder, behind a
# round-robin proxy (each request to the other instance), driven with camr-app: a login
# followed on one instance and answered on the other, a seal session with two placements, a
# bid opening, and a kill -9 of one instance in the middle of a seal session that the other
# finishes. Prints each step; exits 0 only if all hold.
#
# Installs and starts what it needs as .ci/run does (PostgreSQL in target/ci-pg) unless
# CAMR_TEST_DATABASE_URL names a server already.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${CAMR_TEST_DATABASE_URL:-}" ]; then
    sed -n '/--- PostgreSQL/,/--- end PostgreSQL/p' .ci/run > target/pg-block.sh
    # shellcheck disable=SC1091
    source target/pg-block.sh
fi
: "${CAMR_TEST_DATABASE_URL:?PostgreSQL did not start}"
export CAMR_TEST_DATABASE_URL

cargo test --locked -p camr-server --test two_instances -- --nocapture
