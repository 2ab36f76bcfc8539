import * as fs from 'node:fs';
import * as path from 'node:path';
import { accountRequestJsonSchemaText } from '../cli/json-schema';

/** Writes schema/account-request.schema.json from the request schema (`npm run schema`), formatted as the repo formats JSON. */

export const SCHEMA_FILE = path.join(__dirname, '..', 'schema', 'account-request.schema.json');

export async function writeSchema(file = SCHEMA_FILE): Promise<void> {
  // Loaded here, not at the top: prettier loads itself through dynamic imports that jest cannot run.
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(SCHEMA_FILE)) ?? {};
  const text = await prettier.format(accountRequestJsonSchemaText(), { ...options, parser: 'json' });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

// `tsx scripts/generate-schema.ts [file]`: writes the committed schema, or `file`.
if (require.main === module) {
  const file = process.argv[2] ?? SCHEMA_FILE;
  writeSchema(file).then(
    () => process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
