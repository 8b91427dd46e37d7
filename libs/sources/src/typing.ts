import { fromPgText, type PgType, type PgValue } from '@merklesync/crypto';
import { SourceError, SourceErrorCode } from './errors.ts';

/**
 * `fromPgText` with the table and column named in the error, so a bad value is traceable to its row source.
 * @throws SourceError(DECODE)
 */
export function typedValue(type: PgType, text: string | null, schema: string, table: string, column: string): PgValue {
  try {
    return fromPgText(type, text);
  } catch (e) {
    throw new SourceError(
      SourceErrorCode.Decode,
      `${schema}.${table}.${column}: cannot type value of type ${JSON.stringify(type)}: ${(e as Error).message}`,
      { cause: e },
    );
  }
}
