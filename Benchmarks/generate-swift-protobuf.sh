#!/usr/bin/env bash
# Generates the swift-protobuf code the benchmarks compare against, from the suite's own .proto
# files (the same schema the wire module uses) and Benchmarks/proto/bench.proto. Run once after a
# .proto changes; the output is committed, so no build ever runs protoc.
#   Benchmarks/generate-swift-protobuf.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 2; }
# protoc-gen-swift at the version the benchmark package pins (swift-protobuf 1.39.0).
swift build -c release --package-path "$here" --product protoc-gen-swift >/dev/null
plugin="$(swift build -c release --package-path "$here" --show-bin-path)/protoc-gen-swift"
out="$here/Sources/SwiftProtobufMessages"
rm -f "$out"/*.pb.swift
protoc --plugin=protoc-gen-swift="$plugin" --swift_out="$out" --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
  -I "$root/proto" -I "$here/proto" \
  "$root/proto/hsb/common/v1/common.proto" "$root/proto/hsb/intake/v1/intake.proto" "$here/proto/bench.proto"
echo "generated: $(cd "$out" && ls *.pb.swift | tr '\n' ' ')"
