#!/usr/bin/env bash
# What `certify` needs on this machine, installed only where it is missing:
# `bash setup.sh` (also sourced by `tests/run` and `.ci/run`).
#
# - the pinned toolchain of rust-toolchain.toml with its wasm32-wasip2 target
#   (plugins are built for it);
# - bubblewrap (Debian's `bubblewrap`), the sandbox that candidates' package
#   scripts, documentation steps and plugin builds run in (needs root or sudo
#   to install).
#
# Where the pinned release cannot be installed (a machine without access to
# the Rust release server) but the installed stable toolchain is that same
# release, use it: the compiler is the same, only the name differs.
pinned="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/rust-toolchain.toml")"
if ! rustup run "$pinned" rustc --version >/dev/null 2>&1 \
    && ! rustup toolchain install "$pinned" --profile minimal >/dev/null 2>&1; then
    if rustup run stable rustc --version 2>/dev/null | grep -q "^rustc $pinned "; then
        export RUSTUP_TOOLCHAIN=stable
    else
        echo "the pinned Rust $pinned is not installed and cannot be installed" >&2
        exit 2
    fi
fi
rustup target add wasm32-wasip2 >/dev/null

if ! command -v bwrap >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
    else
        echo "setup.sh: install bubblewrap (bwrap), the sandbox for candidates' code" >&2
    fi
fi
