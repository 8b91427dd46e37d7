# Source this file (`source tools/env.sh`): puts Node 24 LTS on PATH, installing it from the npm
# registry into a per-user cache the first time when the machine's Node is older.
# Used by README's quick start and by .ci/run.
MERKLESYNC_NODE_DIR="${MERKLESYNC_NODE_DIR:-$HOME/.cache/merklesync/node24}"
_ms_node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_ms_node_major node)" -lt 24 ]; then
  if [ "$(_ms_node_major "$MERKLESYNC_NODE_DIR/bin/node")" -lt 24 ]; then
    echo "env: installing Node 24 LTS into $MERKLESYNC_NODE_DIR" >&2
    npm install --global --prefix "$MERKLESYNC_NODE_DIR" --no-audit --no-fund node@24 >/dev/null || return 1 2>/dev/null || exit 1
  fi
  export PATH="$MERKLESYNC_NODE_DIR/bin:$PATH"
fi
unset -f _ms_node_major
