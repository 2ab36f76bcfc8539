import * as fs from 'node:fs';
import * as path from 'node:path';
import { accountRequestJsonSchemaText } from '../cli/json-schema';

/** Writes schema/account-request.schema.json from the request schema (`npm run schema`). */

export const SCHEMA_FILE = path.join(__dirname, '..', 'schema', 'account-request.schema.json');

export function writeSchema(file = SCHEMA_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, accountRequestJsonSchemaText());
}

if (require.main === module) {
  writeSchema();
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
}
