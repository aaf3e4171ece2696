#!/bin/sh
# Regenerates compute/onnx/onnxpb/onnx.pb.go from the ONNX schema.
#
# The schema is Debian's python3-onnx 1.12.0 copy
# (/usr/lib/python3/dist-packages/onnx/onnx.proto), kept verbatim beside the
# generated code as compute/onnx/onnxpb/onnx.proto (Apache-2.0, see LICENSE.onnx
# there). Needs protoc (Debian protobuf-compiler 3.21) and protoc-gen-go v1.36.12:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
# Usage: scripts/gen-onnx.sh [PATH/TO/onnx.proto]   (default: the committed copy)
set -eu
cd "$(dirname "$0")/../compute/onnx/onnxpb"
src=${1:-onnx.proto}
if [ "$src" != onnx.proto ]; then cp "$src" onnx.proto; fi
PATH="$(go env GOPATH)/bin:$PATH"
protoc-gen-go --version | grep -q 'v1.36.12' || { echo "gen-onnx: want protoc-gen-go v1.36.12" >&2; exit 1; }
protoc --proto_path=. \
	--go_out=. --go_opt=paths=source_relative \
	--go_opt=Monnx.proto='itscope/compute/onnx/onnxpb;onnxpb' \
	onnx.proto
gofmt -l . | (! grep .) || { echo "gen-onnx: generated code is not gofmt-clean" >&2; exit 1; }
