import type { StateHasher, TableCommitments } from './commitments.ts';
import type { TxCapture } from './tx-capture.ts';

/** Pre and post commitments of a finished capture. */
export interface CapturedCommitments {
  readonly preRoot: Uint8Array;
  readonly postRoot: Uint8Array;
  readonly tables: readonly { readonly table: string; readonly pre: TableCommitments; readonly post: TableCommitments }[];
}

/**
 * Commits a finished capture: per table, the map of (map key → leaf) over the transaction's key set before and
 * after; the pre root and post root are state roots over those table roots.
 * @throws CaptureError(DECODE | KEY_MATERIAL).
 * @example const { preRoot, postRoot } = await commitCapture(hasher, capture)
 */
export async function commitCapture(hasher: StateHasher, capture: TxCapture): Promise<CapturedCommitments> {
  await hasher.prepare(capture.tables.keys());
  const tables = [...capture.tables.values()].map((t) => ({ table: t.meta.name, pre: hasher.table(t.meta, t.keys, t.pre), post: hasher.table(t.meta, t.keys, t.post) }));
  return {
    preRoot: hasher.stateRoot(tables.map((t) => ({ table: t.table, root: t.pre.root }))),
    postRoot: hasher.stateRoot(tables.map((t) => ({ table: t.table, root: t.post.root }))),
    tables,
  };
}
