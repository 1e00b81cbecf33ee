#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Format (or with --check, verify) this project's Rust sources with the
# kernel's rustfmt configuration, as `make rustfmt` does in the kernel tree.

set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO=$(cd "$VM_DIR/../../.." && pwd)
cd "$REPO"
mapfile -t sources < <(git ls-files '*.rs' 2>/dev/null || find . -name '*.rs' ! -name '*_generated.rs')
exec rustfmt --config-path "$KSRC/.rustfmt.toml" --edition 2021 "$@" "${sources[@]}"
