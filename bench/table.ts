// The benchmarks' Markdown tables: first row the header, columns padded to their widest cell, the columns named in
// `right` right-aligned (numbers), the rest left-aligned.

/** Prints `rows` (header first) as a Markdown table. */
export function printTable(rows: readonly (readonly string[])[], right: (column: number) => boolean): void {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string => '| ' + row.map((cell, c) => (right(c) ? cell.padStart(w[c]!) : cell.padEnd(w[c]!))).join(' | ') + ' |';
  console.log(line(rows[0]!));
  console.log('|' + w.map((k, c) => (right(c) ? '-'.repeat(k + 1) + ':' : '-'.repeat(k + 2))).join('|') + '|');
  for (const row of rows.slice(1)) console.log(line(row));
}
