#!/usr/bin/env bash
# What `npm test` needs beyond node_modules, checked (and where it can be, installed) before the tests:
# Java and the Cloud SDK's emulator components for the emulator tests, terraform for `terraform fmt`,
# and Chromium for the report's browser test. On this project's machine kind (Debian, root) the missing
# Debian packages are installed; elsewhere it stops with one line naming what to install.
set -euo pipefail

missing() { echo "npm test: $1" >&2; exit 1; }

apt_install() {
  # $1 = Debian package, $2 = what it is for
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "npm test: installing Debian's $1 ($2)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"; } >/dev/null 2>&1 \
      || missing "could not install Debian's $1 ($2): run 'apt-get install $1'"
  else
    missing "$2 needs Debian's $1: run 'sudo apt-get install $1'"
  fi
}

command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless "the Pub/Sub and Firestore emulators"

sdk="${CLOUDSDK_ROOT_DIR:-}"
if [ -z "$sdk" ]; then
  for guess in /usr/lib/google-cloud-sdk /usr/share/google-cloud-sdk /opt/google-cloud-sdk; do
    [ -d "$guess/platform" ] && sdk="$guess" && break
  done
fi
[ -n "$sdk" ] || sdk="$( (gcloud info --format='value(installation.sdk_root)' 2>/dev/null) || true)"
for component in pubsub-emulator cloud-firestore-emulator; do
  [ -n "$sdk" ] && [ -d "$sdk/platform/$component" ] \
    || missing "the Google Cloud SDK component $component is missing (SDK: '${sdk:-not found}'): run 'gcloud components install $component' or set CLOUDSDK_ROOT_DIR"
done

command -v terraform >/dev/null 2>&1 || missing "terraform is missing (the tests run 'terraform fmt -check'): install Terraform >= 1.5"

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then missing "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"; fi
  apt_install chromium "the report's headless browser test"
fi
