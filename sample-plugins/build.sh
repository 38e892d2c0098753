#!/usr/bin/env bash
# Builds every sample plugin and copies it to ../assets/samples/<name>.wasm.
#   sample-plugins/build.sh            build and copy
#   sample-plugins/build.sh --out DIR  build and copy to DIR instead (used by CI to compare)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../assets/samples"
if [ "${1:-}" = "--out" ]; then out=${2:?--out needs a directory}; fi
mkdir -p "$out"
cd "$here"
# wasi-demo needs WASI (std::fs, stdout); the rest are plain Extism plugins.
plain=(hello host-demo http-demo counter chaos tenant-app mock-host xtp-hello-test)
wasi=(wasi-demo)
args=()
for p in "${plain[@]}"; do args+=(-p "$p"); done
cargo build --locked --release --target wasm32-unknown-unknown "${args[@]}"
cargo build --locked --release --target wasm32-wasip1 -p "${wasi[@]}"
for p in "${plain[@]}"; do
  cp "target/wasm32-unknown-unknown/release/${p//-/_}.wasm" "$out/$p.wasm"
done
for p in "${wasi[@]}"; do
  cp "target/wasm32-wasip1/release/${p//-/_}.wasm" "$out/$p.wasm"
done
# debug-demo keeps its line tables (the debug-sample profile), with paths that resolve from the
# repository root (sample-plugins/…) and from anyone's cargo home (~/.cargo/…).
cargo_home=${CARGO_HOME:-$HOME/.cargo}
RUSTFLAGS="--remap-path-prefix=$here=sample-plugins --remap-path-prefix=$cargo_home=~/.cargo" \
  cargo build --locked --profile debug-sample --target wasm32-unknown-unknown -p debug-demo
cp target/wasm32-unknown-unknown/debug-sample/debug_demo.wasm "$out/debug-demo.wasm"
ls -l "$out"
