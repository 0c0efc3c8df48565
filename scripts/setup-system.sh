#!/usr/bin/env bash
# Install what specstudio's build, deploys and tests need, once.
# Idempotent and quick when everything is there (only `command -v` checks and
# one `docker info`); installs only what is missing. Needs root (or
# password-less sudo) on Debian; never prompts, so it runs without a TTY.
#
# usage: scripts/setup-system.sh [--toolchain | --deploy | --tests]
#   --toolchain: only the pinned Rust toolchain (scripts/check.sh)
#   without flags: that, and node/npm for the UI build
#   --deploy: also a running Docker engine and debootstrap, which
#             images/mysql/build.sh needs (scripts/serve.sh)
#   --tests: also Chromium + ChromeDriver, a MySQL client, hyperfine,
#            sysbench, Neovim and python3-venv (scripts/test.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:-}"
case "$mode" in
  "" | --toolchain | --deploy | --tests) ;;
  *) echo "usage: $0 [--toolchain | --deploy | --tests]" >&2; exit 2 ;;
esac

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo -n"; fi

want=()
need() { command -v "$1" >/dev/null 2>&1 || want+=("$2"); }
if [[ "$mode" != --toolchain ]]; then
  need node nodejs
  need npm npm
fi
if [[ "$mode" == --deploy || "$mode" == --tests ]]; then
  need dockerd docker.io
  need iptables iptables   # kernel forwarding of endpoint ports (docker.io depends on it too)
  need debootstrap debootstrap
fi
if [[ "$mode" == --tests ]]; then
  need chromium chromium
  need chromedriver chromium-driver
  need mariadb mariadb-client
  need hyperfine hyperfine
  need sysbench sysbench
  need nvim neovim
  need ip iproute2   # scripts/swarm.sh: network namespaces for the local swarm
  need python3 python3
  # pytest-lsp and schemathesis (PyPI) run in virtualenvs made by scripts/test.sh
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || want+=(python3-venv)
fi
if ((${#want[@]})); then
  echo "==> apt-get install ${want[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

# The compiler pinned by rust-toolchain.toml, with its wasm target and
# components. rustup may not auto-install it (RUSTUP_AUTO_INSTALL=0, or no
# route to static.rust-lang.org), so: when it is missing but the installed
# `stable` is that very release, register that directory under the pinned name
# (what a download would unpack, without the download); otherwise install it.
pin=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/rust-toolchain.toml")
toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
host=$(cd / && rustc -vV | sed -n 's/^host: //p')
if [[ ! -e "$toolchains/$pin-$host" ]]; then
  if [[ "$(cd / && rustup run stable rustc -vV 2>/dev/null | sed -n 's/^release: //p')" == "$pin" ]]; then
    echo "==> using the installed stable toolchain (rustc $pin) as the pinned $pin"
    ln -s "$toolchains/stable-$host" "$toolchains/$pin-$host"
  else
    echo "==> rustup toolchain install $pin"
    rustup toolchain install "$pin" --profile minimal --component clippy,rustfmt --target wasm32-unknown-unknown
  fi
fi
rustup target list --installed --toolchain "$pin" | grep -qx wasm32-unknown-unknown ||
  rustup target add --toolchain "$pin" wasm32-unknown-unknown
for component in clippy rustfmt; do
  rustup component list --installed --toolchain "$pin" | grep -q "^$component" ||
    rustup component add --toolchain "$pin" "$component"
done

# A Docker engine that answers: started here when installed but not running
# (systemd when it runs the machine, else a detached dockerd).
if [[ "$mode" == --deploy || "$mode" == --tests ]] && ! docker info >/dev/null 2>&1; then
  echo "==> starting the Docker engine"
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl start docker
  else
    $sudo sh -c 'setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &'
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "the Docker engine did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
