# Sourced by the test scripts. cargo_tool BINARY CRATE VERSION installs a cargo
# subcommand (pinned, --locked) unless that version is already on PATH.
cargo_tool() {
    if ! command -v "$1" >/dev/null || ! "$1" --version | grep -qF "$3"; then
        cargo install --locked "$2" --version "$3"
    fi
}
