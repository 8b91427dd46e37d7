#!/usr/bin/env bash
# `npm start` until the pipeline exists: a tour of the merklesync CLI on generated data.
# Builds a log and a map, proves, verifies, and shows that a tampered proof is rejected.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh

ms() { node apps/cli/bin/merklesync.mjs "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step() { printf '\n\033[1m%s\033[0m\n' "$*"; }
expect_exit() { # expect_exit CODE what cmd...
  local want=$1 what=$2; shift 2
  local got=0
  "$@" >/dev/null 2>"$tmp/err" || got=$?
  if [ "$got" != "$want" ]; then echo "demo: $what exited $got, expected $want" >&2; cat "$tmp/err" >&2; exit 1; fi
  printf '  %-58s exit %s %s\n' "$what" "$got" "$(head -c 120 "$tmp/err")"
}

N=${DEMO_LEAVES:-100000}
step "1. An append-only log of $N leaves (RFC 9162)"
node -e "for (let i = 0; i < $N; i++) console.log(Buffer.from('row-' + i).toString('hex'))" > "$tmp/leaves.txt"
printf '  root (sha256): %s\n' "$(ms log root "$tmp/leaves.txt")"
printf '  root (blake3): %s\n' "$(ms log root "$tmp/leaves.txt" --hash blake3)"

step "2. Inclusion and consistency proofs, verified offline"
ms log prove "$tmp/leaves.txt" 4242 --size $((N / 2)) > "$tmp/incl.json"
ms log consistency "$tmp/leaves.txt" 1000 "$N" > "$tmp/cons.json"
head -c 400 "$tmp/incl.json"; echo " …"
expect_exit 0 "verify inclusion of leaf 4242 in the first $((N / 2))" ms verify "$tmp/incl.json"
expect_exit 0 "verify consistency 1000 → $N" ms verify "$tmp/cons.json"

step "3. Tampering is caught"
node -e '
  const fs = require("fs"); const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const flip = (h) => (parseInt(h[0], 16) ^ 1).toString(16) + h.slice(1);
  p.path[0] = flip(p.path[0]); fs.writeFileSync(process.argv[2], JSON.stringify(p));
  p.path = p.path.slice(1); fs.writeFileSync(process.argv[3], JSON.stringify(p));
' "$tmp/incl.json" "$tmp/bad1.json" "$tmp/bad2.json"
expect_exit 1 "one flipped bit in the audit path" ms verify "$tmp/bad1.json"
expect_exit 1 "an audit path one element short" ms verify "$tmp/bad2.json"
echo '{"v":1,"kind":"log-inclusion"' > "$tmp/garbage.json"
expect_exit 2 "truncated JSON" ms verify "$tmp/garbage.json"

step "4. An authenticated map of 10000 keys (history-independent sparse Merkle tree)"
node -e '
  const { createHash } = require("crypto");
  for (let i = 0; i < 10000; i++) console.log(createHash("sha256").update("key-" + i).digest("hex"), Buffer.from("value-" + i).toString("hex"));
' > "$tmp/map.txt"
printf '  map root: %s\n' "$(ms map root "$tmp/map.txt")"
shuf "$tmp/map.txt" > "$tmp/map-shuffled.txt" 2>/dev/null || sort -r "$tmp/map.txt" > "$tmp/map-shuffled.txt"
printf '  same keys, other order: %s\n' "$(ms map root "$tmp/map-shuffled.txt")"
present=$(head -n 1 "$tmp/map.txt" | cut -d' ' -f1)
absent=$(node -e 'console.log(require("crypto").createHash("sha256").update("no-such-key").digest("hex"))')
ms map prove "$tmp/map.txt" "$present" > "$tmp/member.json"
ms map prove "$tmp/map.txt" "$absent" > "$tmp/absent.json"
expect_exit 0 "membership of $present" ms verify "$tmp/member.json"
expect_exit 0 "non-membership of $absent" ms verify "$tmp/absent.json"

step "5. An encrypted row block, bound to its row"
ms keys new --out "$tmp/master.key" --kid demo >/dev/null
printf '{"id":42,"name":"Ada"}' > "$tmp/row.bin"
bind=(--key "$tmp/master.key" --source pg-demo --table public.users --pk 2a --row-version 7)
ms block encrypt "${bind[@]}" --out "$tmp/block.bin" "$tmp/row.bin"
printf '  block: %s bytes (header + AES-256-GCM ciphertext + tag)\n' "$(wc -c < "$tmp/block.bin")"
printf '  decrypted: %s\n' "$(ms block decrypt "${bind[@]}" "$tmp/block.bin")"
expect_exit 1 "the same block claimed for row version 8" ms block decrypt --key "$tmp/master.key" --source pg-demo --table public.users --pk 2a --row-version 8 "$tmp/block.bin"
expect_exit 1 "the same block claimed for another primary key" ms block decrypt --key "$tmp/master.key" --source pg-demo --table public.users --pk 2b --row-version 7 "$tmp/block.bin"

step "6. A signed checkpoint, cosigned by witnesses, checked against a 2/3 policy"
ms checkpoint keygen --name log.demo.example --out "$tmp/log" >/dev/null
for w in 1 2 3; do ms checkpoint keygen --name "w$w.demo.example" --witness --out "$tmp/w$w" >/dev/null; done
ms checkpoint sign --key "$tmp/log.key" --log-file "$tmp/leaves.txt" > "$tmp/cp0.txt"
ms checkpoint cosign --key "$tmp/w1.key" "$tmp/cp0.txt" > "$tmp/cp1.txt"
ms checkpoint cosign --key "$tmp/w2.key" "$tmp/cp1.txt" > "$tmp/cp2.txt"
ms checkpoint cosign --key "$tmp/w3.key" "$tmp/cp2.txt" > "$tmp/cp3.txt"
node -e '
  const fs = require("fs"); const [dir] = process.argv.slice(1); const v = (n) => fs.readFileSync(`${dir}/${n}.vkey`, "utf8").trim();
  fs.writeFileSync(`${dir}/policy.json`, JSON.stringify({ version: 1, log: v("log"), witnesses: [v("w1"), v("w2"), v("w3")] }, null, 2));
' "$tmp"
sed 's/^/  /' "$tmp/cp3.txt"
expect_exit 0 "3 of 3 witnesses (more than 2/3 of the set)" ms checkpoint verify --policy "$tmp/policy.json" "$tmp/cp3.txt"
expect_exit 1 "2 of 3 witnesses (exactly 2/3: not enough)" ms checkpoint verify --policy "$tmp/policy.json" "$tmp/cp2.txt"
sed '1s/^/x/' "$tmp/cp3.txt" > "$tmp/cp-bad.txt"
expect_exit 1 "an edited origin line" ms checkpoint verify --policy "$tmp/policy.json" "$tmp/cp-bad.txt"

step "Done. Try: npx merklesync --help"
