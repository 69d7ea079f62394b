#!/usr/bin/env bash
# Builds a3s's guest kernel: tinyconfig + the a3s.config fragment, everything built in.
#
#   build.sh <linux-source-tarball-or-dir> <output-dir> [fragment]
#
# The fragment defaults to a3s.config next to this script. The output directory receives `vmlinux`
# (the uncompressed ELF with its PVH note, debug info stripped) and `config` (the final .config).
# The tree is extracted and built in a scratch directory under $TMPDIR (~1.5 GB), removed at exit;
# a source directory is built out of tree (O=) and left untouched.
set -euo pipefail

usage() {
  echo "usage: build.sh <linux-source-tarball-or-dir> <output-dir> [fragment]" >&2
  exit 2
}

[[ $# -ge 2 && $# -le 3 ]] || usage
source_arg=$1
output_dir=$2
fragment=${3:-"$(dirname "${BASH_SOURCE[0]}")/a3s.config"}

die() {
  echo "build.sh: $*" >&2
  exit 1
}

[[ -e "$source_arg" ]] || die "kernel source not found: $source_arg"
[[ -f "$fragment" ]] || die "config fragment not found: $fragment"
# x86_64 only for now: a3s.config's comment says what arm64 would need.
[[ "$(uname -m)" == x86_64 ]] || die "only x86_64 hosts are supported (this is $(uname -m))"
for tool in make gcc flex bison bc perl tar strip readelf; do
  command -v "$tool" >/dev/null || die "$tool is required to build the kernel (Debian: apt-get install build-essential flex bison bc libelf-dev libssl-dev)"
done

fragment=$(realpath "$fragment")
mkdir -p "$output_dir"
output_dir=$(realpath "$output_dir")
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/a3s-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ -d "$source_arg" ]]; then
  srctree=$(realpath "$source_arg")
else
  echo "==> extracting $source_arg"
  mkdir "$work/src"
  tar -xf "$source_arg" -C "$work/src" --strip-components=1
  srctree=$work/src
fi
[[ -f "$srctree/Makefile" && -d "$srctree/scripts/kconfig" ]] || die "not a Linux source tree: $source_arg"

objtree=$work/build
mkdir "$objtree"
# Reproducible banner: no build user, host or time of this machine in /proc/version.
export KBUILD_BUILD_USER=a3s KBUILD_BUILD_HOST=a3s KBUILD_BUILD_TIMESTAMP="1970-01-01"
kmake() {
  make -C "$srctree" O="$objtree" "$@"
}

echo "==> configuring (tinyconfig + $(basename "$fragment"))"
# tinyconfig itself merges fragments and reports every override on stdout: not ours, not interesting.
kmake -s tinyconfig >/dev/null
(cd "$objtree" && "$srctree/scripts/kconfig/merge_config.sh" -m -O "$objtree" "$objtree/.config" "$fragment" >/dev/null)
kmake -s olddefconfig

# Every option the fragment asks for must have survived: a typo or a missing dependency makes
# olddefconfig drop it silently.
missing=()
while IFS= read -r line; do
  if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=y$ ]]; then
    grep -qx "${BASH_REMATCH[1]}=y" "$objtree/.config" || missing+=("${BASH_REMATCH[1]}=y")
  elif [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=n$ || $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
    if grep -qx "${BASH_REMATCH[1]}=[ym]" "$objtree/.config"; then missing+=("${BASH_REMATCH[1]}=n"); fi
  fi
done <"$fragment"
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "build.sh: these fragment options did not survive olddefconfig (typo or missing dependency):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi

echo "==> building vmlinux with $(nproc) jobs"
kmake -j"$(nproc)" vmlinux

# QEMU boots the ELF through its PVH entry point: XEN_ELFNOTE_PHYS32_ENTRY (type 0x12, owner "Xen").
readelf -n "$objtree/vmlinux" | grep -q 'Xen.*0x00000012' || die "vmlinux has no PVH entry note (CONFIG_PVH)"

strip --strip-debug -o "$output_dir/vmlinux.tmp" "$objtree/vmlinux"
mv "$output_dir/vmlinux.tmp" "$output_dir/vmlinux"
cp "$objtree/.config" "$output_dir/config"

elapsed=$((SECONDS - start))
size=$(stat -c %s "$output_dir/vmlinux")
printf '==> %s/vmlinux (%d bytes) built in %dm%02ds\n' "$output_dir" "$size" $((elapsed / 60)) $((elapsed % 60))
