import { Command, CommanderError } from 'commander';
import { registerApprove } from './approve';
import { registerDrift } from './drift';
import { EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, explainAwsError, UsageError } from './errors';
import { registerPlan } from './plan';
import { registerRerun } from './rerun';
import { registerSchema } from './schema';
import { registerStatus } from './status';
import { registerValidate } from './validate';

/**
 * The `account-factory` command line. One file per command, each exporting
 * `register<Command>(program)`; add a command by adding its file and one line
 * below.
 */

/** Options every command sees (through `command.optsWithGlobals()`). */
export interface GlobalOptions {
  /** Run against the local engine and emulated landing zone instead of AWS. */
  local?: boolean;
  /** AWS Region of the factory. */
  region?: string;
  /** With --local: the request files provisioned on the local engine before a lifecycle command runs. */
  localRequests: string;
  /** With --local: request files deployed after those, before the command runs (changed ones written, missing ones removed). */
  localApply?: string;
  /** Print the stack trace of an error. */
  verbose?: boolean;
}

export function buildProgram(): Command {
  const program = new Command('account-factory')
    .description('Validate and manage cdk-account-factory account requests')
    .option('--local', 'run against the local engine and emulated landing zone, not AWS')
    .option('--region <region>', 'AWS Region of the factory (default: the SDK default Region)')
    .option(
      '--local-requests <dir>',
      'with --local: the request files provisioned on the local engine before plan, rerun or status runs',
      'examples/account-requests',
    )
    .option(
      '--local-apply <dir>',
      'with --local: then deploy the request files of this directory as a deploy would (write what changed, ' +
        'remove what is missing) and wait, before the command runs',
    )
    .option('--verbose', 'print the stack trace of an error')
    .showHelpAfterError()
    .exitOverride();
  registerValidate(program);
  registerSchema(program);
  registerPlan(program);
  registerRerun(program);
  registerStatus(program);
  registerDrift(program);
  registerApprove(program);
  return program;
}

/**
 * Runs the CLI on `argv` (as process.argv: node, script, args...) and returns the
 * exit status: 0 fine, 1 problems found (set by a command) or an error, 2 bad usage
 * or a setup to fix (no Region, no credentials, no such stack). An error is one
 * line on stderr that says what to do; `--verbose` adds its stack trace.
 */
export async function run(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (and the help) already. `--help` and
      // `--version` are fine; anything else (no command, unknown option, missing argument) is bad usage.
      return ['commander.helpDisplayed', 'commander.version'].includes(err.code) ? EXIT_OK : EXIT_USAGE;
    }
    const verbose = program.opts<GlobalOptions>().verbose === true || argv.includes('--verbose');
    const trace = verbose && err instanceof Error && err.stack ? `\n${err.stack}` : '';
    if (err instanceof UsageError) {
      process.stderr.write(`account-factory: ${err.message}${trace}\n`);
      return EXIT_USAGE;
    }
    const explained = explainAwsError(err);
    if (explained !== undefined) {
      process.stderr.write(`account-factory: ${explained}${trace}\n`);
      return EXIT_USAGE;
    }
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`account-factory: ${what}${trace || ' (--verbose prints the stack trace)'}\n`);
    return EXIT_PROBLEMS;
  }
  const code = process.exitCode;
  return typeof code === 'number' ? code : EXIT_OK;
}
