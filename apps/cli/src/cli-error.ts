/** Exit codes of every `merklesync` command. */
export const ExitCode = {
  Ok: 0,
  /** A proof or signature was well-formed but did not verify. */
  Invalid: 1,
  /** Bad usage or malformed input (one-line reason on stderr). */
  Malformed: 2,
  /** A bug: anything not anticipated. Reported, never a stack-trace crash. */
  Internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad usage or malformed input: the message is printed as one line and the exit code is 2. */
export class CliInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliInputError';
  }
}
