#!/usr/bin/env bash
# The FHIR resources of a fictitious pathway through the HL7 validator engine, offline, against
# base R4 (Java 17 and Maven; the jars come from Maven Central on first run). Not part of
# `make test`: the FR Core and ANS packages are not on Maven Central, so profiles are not checked.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd "$here" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$out/cp.txt")
(cd "$root" && PYTHONPATH=. .venv/bin/python tools/fhir-validator/dump.py "$out")
java -cp "$(cat "$out/cp.txt")" "$here/Validate.java" "$out"/*.json 2> >(grep -v '^\[main\]' >&2)
