import { SparseMerkleMap, proofToJson, toHex, type MapProofDocument } from '@merklesync/merkle';
import { HASH_OPTION, hashOption, type Command, type ParsedArgs } from '../args.ts';
import { ExitCode } from '../cli-error.ts';
import { keyArg, readMapFile } from '../inputs.ts';

const FILE_HELP = 'FILE holds one entry per line: "keyhex valuehex" (key 32 bytes); blank lines are skipped; "-" reads standard input.';

async function _map(args: ParsedArgs): Promise<{ map: SparseMerkleMap; root: Uint8Array }> {
  const map = new SparseMerkleMap({ suite: hashOption(args) });
  const root = map.update(map.emptyRoot, await readMapFile(args.positionals[0]!));
  return { map, root };
}

export const mapCommands: readonly Command[] = [
  {
    path: ['map', 'root'],
    summary: 'print the root of the authenticated map (sparse Merkle tree) of the entries in FILE (lowercase hex)',
    positionals: ['FILE'],
    options: HASH_OPTION,
    details: FILE_HELP,
    async run(args) {
      process.stdout.write(toHex((await _map(args)).root) + '\n');
      return ExitCode.Ok;
    },
  },
  {
    path: ['map', 'prove'],
    summary: 'print a membership proof (key present) or a non-membership proof (key absent) as JSON',
    positionals: ['FILE', 'KEYHEX'],
    options: HASH_OPTION,
    details: FILE_HELP,
    async run(args) {
      const key = keyArg(args.positionals[1]!);
      const { map, root } = await _map(args);
      const p = map.prove(root, key);
      const doc: MapProofDocument =
        p.kind === 'map-membership'
          ? { kind: p.kind, hash: map.suite.name, root, key, value: p.value, proof: p.proof }
          : { kind: p.kind, hash: map.suite.name, root, key, proof: p.proof };
      process.stdout.write(JSON.stringify(proofToJson(doc), null, 2) + '\n');
      return ExitCode.Ok;
    },
  },
];
