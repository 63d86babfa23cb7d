# Sourced by `tests/run` and `.ci/run`: make sure the pinned toolchain of
# rust-toolchain.toml, with its wasm32-wasip2 target, is the one cargo uses.
#
# Where the pinned release cannot be installed (a machine without access to
# the Rust release server) but the installed stable toolchain is that same
# release, use it: the compiler is the same, only the name differs.
pinned="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../rust-toolchain.toml")"
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
