/**
 * Initial schema. Runs with `search_path` set to the store's schema, so names are unqualified.
 * Never edit an applied migration: add a new one (the runner checks checksums).
 */
export const sql = `
-- Content-addressed sparse-Merkle-map nodes: (suite, hash) -> encoded node (README "Node encoding").
CREATE TABLE map_nodes (
  suite smallint NOT NULL CHECK (suite IN (0, 1)),
  hash  bytea    NOT NULL CHECK (length(hash) = 32),
  node  bytea    NOT NULL,
  PRIMARY KEY (suite, hash)
);

-- One row per append-only log: its hash suite and how many leaves are stored.
CREATE TABLE logs (
  log_id     text        PRIMARY KEY,
  suite      smallint    NOT NULL CHECK (suite IN (0, 1)),
  size       bigint      NOT NULL DEFAULT 0 CHECK (size >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Complete-subtree roots of each log: node (level, idx) hashes leaves [idx*2^level, (idx+1)*2^level).
-- No foreign key on purpose: it would cost a lookup per row on the hot path; writes go through logs' row lock.
CREATE TABLE log_nodes (
  log_id text     NOT NULL,
  level  smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
  idx    bigint   NOT NULL CHECK (idx >= 0),
  hash   bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (log_id, level, idx)
);

-- Latest map root per (source, table).
CREATE TABLE table_roots (
  source     text        NOT NULL,
  table_name text        NOT NULL,
  suite      smallint    NOT NULL CHECK (suite IN (0, 1)),
  root       bytea       NOT NULL CHECK (length(root) = 32),
  stream_seq bigint      NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, table_name)
);

-- Highest stream sequence applied per consumer (the redelivery filter and the restart point).
CREATE TABLE applied_sequences (
  consumer   text        PRIMARY KEY,
  stream_seq bigint      NOT NULL CHECK (stream_seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Signed checkpoint chain per log.
CREATE TABLE checkpoints (
  log_id     text        NOT NULL,
  seq        bigint      NOT NULL CHECK (seq >= 0),
  log_size   bigint      NOT NULL CHECK (log_size >= 0),
  log_root   bytea       NOT NULL CHECK (length(log_root) = 32),
  state_root bytea       NOT NULL CHECK (length(state_root) = 32),
  note       text        NOT NULL,
  note_hash  bytea       NOT NULL CHECK (length(note_hash) = 32),
  prev_hash  bytea                CHECK (length(prev_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (log_id, seq)
);

-- The chain rules hold even for writers that bypass the library: append-only, seq increasing,
-- size never shrinking, prev_hash naming the previous note.
CREATE FUNCTION checkpoints_guard() RETURNS trigger LANGUAGE plpgsql
  SET search_path FROM CURRENT  -- the store schema, whatever the caller's search_path
  AS $fn$
DECLARE last record;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'checkpoints are append-only' USING ERRCODE = 'P0001';
  END IF;
  SELECT seq, log_size, note_hash INTO last FROM checkpoints
    WHERE log_id = NEW.log_id ORDER BY seq DESC LIMIT 1;
  IF FOUND THEN
    IF NEW.seq <= last.seq OR NEW.log_size < last.log_size OR NEW.prev_hash IS DISTINCT FROM last.note_hash THEN
      RAISE EXCEPTION 'checkpoint does not extend the chain' USING ERRCODE = 'P0001';
    END IF;
  ELSIF NEW.prev_hash IS NOT NULL THEN
    RAISE EXCEPTION 'first checkpoint must have no previous hash' USING ERRCODE = 'P0001';
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER checkpoints_guard BEFORE INSERT OR UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION checkpoints_guard();
`;
