/**
 * The command line was wrong (no files, a path that cannot be read, an unknown
 * option): the CLI prints the message and exits with status 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit statuses of every command. */
export const EXIT_OK = 0;
/** The command ran and found problems (e.g. invalid requests). */
export const EXIT_PROBLEMS = 1;
/** Bad usage. */
export const EXIT_USAGE = 2;
