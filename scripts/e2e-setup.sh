#!/usr/bin/env bash
# One-time set-up of the end-to-end suite: a real VS Code (code-server 4.100.3, the newest that runs on Node 20)
# and playwright-core, installed in .e2e/ so that neither ever becomes a dependency of the extension.
# Works offline apart from the npm registry: @vscode/ripgrep's postinstall would download rg from GitHub, so
# its download cache is seeded with Debian's /usr/bin/rg. Writes .e2e/ready when everything is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
E2E=$ROOT/.e2e
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
[ -e /usr/include/gssapi/gssapi.h ] || [ -e /usr/include/krb5.h ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "e2e-setup: installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "e2e-setup: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

mkdir -p "$E2E/tmp/vscode-ripgrep-cache-1.15.11"
rm -f "$E2E/ready"
cd "$E2E"
tar czf tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz -C "$(dirname "$(command -v rg)")" rg
[ -f package.json ] || printf '{ "name": "finetune-studio-e2e", "private": true }\n' > package.json
# code-server builds native modules against the system's Node headers, as root.
export TMPDIR=$E2E/tmp npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr
installed() { node -e "process.exit(require('$E2E/node_modules/$1/package.json').version === '$2' ? 0 : 1)" 2>/dev/null; }
if ! installed code-server "$CODE_SERVER_VERSION" || ! installed playwright-core "$PLAYWRIGHT_VERSION"; then
  npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
fi
"$E2E/node_modules/.bin/code-server" --version >/dev/null
date -u +%FT%TZ > "$E2E/ready"
echo "e2e-setup: ready (code-server $CODE_SERVER_VERSION, playwright-core $PLAYWRIGHT_VERSION, $(chromium --version 2>/dev/null | head -1))"
