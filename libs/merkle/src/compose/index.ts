export { TABLE_TREE_TAGS, tableRoot, type TableRow } from './table-root.ts';
export { DATABASE_TREE_TAGS, databaseRoot, type DatabaseTable } from './database-root.ts';
