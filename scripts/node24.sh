# Puts Node.js 24 first on PATH when the machine's Node is older than 22.
# Usage (bash): source scripts/node24.sh
# Node 24 comes from the npm registry's `node@24` package (a binary inside a registry package),
# installed into ./.tools/node24; native addons (better-sqlite3) are then built against its headers.
_migfhir_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_migfhir_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "${_migfhir_major}" -lt 22 ]; then
  _migfhir_dir="${_migfhir_root}/.tools/node24"
  if [ ! -x "${_migfhir_dir}/node_modules/.bin/node" ]; then
    echo "migfhir: installing Node.js 24 from the npm registry into ${_migfhir_dir}" >&2
    mkdir -p "${_migfhir_dir}"
    npm install --silent --no-save --no-package-lock --prefix "${_migfhir_dir}" node@24 >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="${_migfhir_dir}/node_modules/.bin:${PATH}"
  # node-gyp must build native addons against Node 24's headers, not the machine's (~/.npmrc
  # points nodedir at the system Node's headers).
  _migfhir_home="$(dirname "$(find "${_migfhir_dir}/node_modules" -path '*/include/node/node_version.h' | head -n 1)")"
  if [ -n "${_migfhir_home}" ] && [ "${_migfhir_home}" != "." ]; then
    export npm_config_nodedir="$(cd "${_migfhir_home}/../.." && pwd)"
  fi
fi
unset _migfhir_root _migfhir_major _migfhir_dir _migfhir_home
node --version
