import { Command } from 'commander';
import { accountRequestJsonSchemaText } from './json-schema';

/** `account-factory schema`: prints the JSON Schema of an account request file. */
export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of an account request file (for editors and other tools)')
    .action(() => {
      process.stdout.write(accountRequestJsonSchemaText());
    });
}
