#!/usr/bin/env bash
# Regenerates src/models/onnx/generated/onnx/onnx_pb.ts from proto/onnx/onnx.proto (ONNX's schema, copied
# unchanged from github.com/onnx/onnx at f7546912 (1.23.0), Apache-2.0) with buf and protoc-gen-es (dev dependencies).
# The generated file is committed so that building voxgpu needs neither tool.
set -euo pipefail
cd "$(dirname "$0")/../proto"
PATH="$PWD/../node_modules/.bin:$PATH" buf generate
