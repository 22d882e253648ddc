#!/usr/bin/env bash
# Fails when a Swift file differs from .swift-format's style; `scripts/check-format.sh --fix` formats them.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Package.swift Shared Services Tests Benchmarks/Package.swift Benchmarks/Sources)
if [ "${1:-}" = "--fix" ]; then
  swift format format --in-place --recursive "${paths[@]}"
  exit 0
fi
swift format lint --strict --recursive "${paths[@]}"
echo "Swift sources match .swift-format"
