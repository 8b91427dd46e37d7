// Building SQL from catalog names without ever splicing unescaped input: identifiers are double-quoted with
// embedded quotes doubled (PostgreSQL's quote_ident rule, always quoting), values travel as parameters.

/** `"name"` with `"` doubled. @throws TypeError for a non-string or a string with NUL. @example quoteIdent('a"b') // '"a""b"' */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.includes('\u0000')) throw new TypeError('identifier must be a string without NUL');
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`. @example qualified('public', 'users') // '"public"."users"' */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
