#!/usr/bin/env bash
# Installs what civic's build and tests need, from Debian's packages only. Quick and silent when
# everything is already there; `make run` and `make test` call it first.
set -euo pipefail

packages=(
    gcc make binutils clang          # kernel (gcc or clang) and host tests
    grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools   # grub-mkrescue: BIOS + UEFI ISO
    ovmf                             # UEFI firmware for QEMU: the ISO's UEFI boot path is tested
    bochs bochs-term bochsbios vgabios   # the VMX-capable emulator (CI platform); bochs-term
                                     # satisfies its GUI dependency without wxWidgets
    qemu-system-x86                  # the second NIC/CPU model, and KVM on workstations
    libcmocka-dev                    # host unit tests
    libclang-rt-dev                  # libFuzzer for the fuzz targets (clang only recommends it)
    xz-utils                         # unpacks lwIP's source package (net/fetch-lwip.sh)
    python3                          # test harness
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
