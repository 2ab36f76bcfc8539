import { z } from 'zod';
import {
  AccountRequestSchema,
  MAX_CUSTOM_FIELDS,
  MAX_CUSTOM_FIELDS_BYTES,
  MAX_TAGS,
  OPT_IN_REGIONS,
} from '../lambda/shared/schema';

/**
 * The JSON Schema of an account request file, generated from the zod schema
 * (lambda/shared/schema.ts) so that the two cannot disagree on what zod can
 * express; the checks zod makes with `refine` are added here where JSON Schema
 * can say them. Committed as schema/account-request.schema.json (`npm run schema`)
 * and printed by `account-factory schema`, for editors and other tools.
 */

export const SCHEMA_ID = 'urn:cdk-account-factory:schema:account-request';

const DESCRIPTION = [
  'One account request for cdk-account-factory: one JSON or YAML file per account.',
  'Checked by this schema: field types, required fields, no unknown fields, lengths, character sets,',
  `at most ${MAX_TAGS} tags and no tag key starting with "aws:" (any case), at most ${MAX_CUSTOM_FIELDS} custom fields,`,
  'no leading or trailing space in accountName and organizationalUnit, an organizationalUnit that ends like "(ou-...)" only with a well-formed lower-case OU id; opt-in Regions; one of group or user per identityCenter item.',
  'Checked only by the factory (the AccountRequest construct at synth, `account-factory validate`, the Validate request step):',
  `customFields at most ${MAX_CUSTOM_FIELDS_BYTES} bytes in all (as JSON);`,
  'emails and SSO names are trimmed (and emails lower-cased) before they are checked, so this schema is stricter about surrounding spaces.',
  'Checked only by `account-factory validate`: two files with the same accountEmail (any case) or the same accountName;',
  'an organizationalUnit that is a bare OU id.',
  'Checked only when the request runs (Validate request step): the OU exists and is registered with Control Tower,',
  'and no other account uses the email or the account name.',
].join(' ');

const FIELD_DESCRIPTIONS: Record<string, string> = {
  accountEmail:
    "The new account's root email (ASCII, at most 64 characters); identifies the request and cannot change.",
  accountName: 'The account name: printable ASCII other than < and >, at most 50 characters.',
  organizationalUnit: 'The OU: "Name", or "Name (ou-xxxx-xxxxxxxx)" when several OUs share the name.',
  sso: 'The IAM Identity Center user given access to the account.',
  tags: `Tags on the account (at most ${MAX_TAGS}; keys must not start with "aws:").`,
  customFields: `Free-form string values passed to the customizations (at most ${MAX_CUSTOM_FIELDS}, ${MAX_CUSTOM_FIELDS_BYTES} bytes in all).`,
  customizationsName: 'The name of the account customizations to run.',
  closeOnRemoval:
    'Close the account when its request is removed (otherwise removal only ends its management).',
  alternateContacts:
    'The billing, operations and security contacts of the account, as the Account Management API takes them. A contact dropped from the request is deleted only if the factory set it.',
  regions: 'Opt-in Regions to enable in the account (Regions enabled by default need no entry).',
  disableRemovedRegions:
    'Disable a Region the factory enabled when the request no longer lists it (default false: it stays enabled).',
  identityCenter:
    'IAM Identity Center access: each item gives a group (display name) or a user (user name) a permission set (name) on the account.',
};

type JsonObject = Record<string, any>;

/** Adds a pattern to a string schema that may already have one (JSON Schema allows one `pattern` per schema). */
function addPattern(schema: JsonObject, pattern: string): void {
  if (schema.pattern === undefined) schema.pattern = pattern;
  else schema.allOf = [...(schema.allOf ?? []), { pattern }];
}

export function accountRequestJsonSchema(): JsonObject {
  const generated = z.toJSONSchema(AccountRequestSchema, { io: 'input' }) as JsonObject;
  const props = generated.properties as Record<string, JsonObject>;

  // accountName: zod's refine "no leading or trailing space", folded into the character set.
  props.accountName.pattern = '^[!-;=?-~]([ -;=?-~]*[!-;=?-~])?$';
  // organizationalUnit: zod's refine: no surrounding space; the name (before " (ou-id)") at most 128.
  addPattern(props.organizationalUnit, '^\\S(.*\\S)?$');
  // An OU id in parentheses must be well formed (the request schema's check, so the loader,
  // `validate` and the workflow agree).
  props.organizationalUnit.anyOf = [
    { maxLength: 128, not: { pattern: '\\(\\s*[oO][uU]-[^)]*\\)$' } },
    { pattern: '^.{1,128} \\(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\\)$' },
  ];
  // SSO names: zod trims first, so a name of spaces only is empty.
  const sso = props.sso.properties as Record<string, JsonObject>;
  addPattern(sso.firstName, '\\S');
  addPattern(sso.lastName, '\\S');
  // tags: zod's refines on the record.
  props.tags.maxProperties = MAX_TAGS;
  props.tags.propertyNames.not = { pattern: '^[aA][wW][sS]:' };
  props.customFields.maxProperties = MAX_CUSTOM_FIELDS;
  // regions: zod's refines: opt-in Regions of the aws partition, each once.
  props.regions.items.enum = [...OPT_IN_REGIONS];
  props.regions.uniqueItems = true;
  // identityCenter: zod's refines: exactly one of group or user, names without surrounding space, each once.
  const assignment = props.identityCenter.items as JsonObject;
  assignment.oneOf = ['group', 'user'].map((k) => ({ required: [k], properties: { [k]: true } }));
  addPattern(assignment.properties.group, '^\\S(.*\\S)?$');
  addPattern(assignment.properties.user, '^\\S(.*\\S)?$');
  props.identityCenter.uniqueItems = true;

  for (const [name, description] of Object.entries(FIELD_DESCRIPTIONS)) {
    if (!props[name]) throw new Error(`accountRequestJsonSchema: the request schema has no field ${name}`);
    props[name] = { description, ...props[name] };
  }

  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: SCHEMA_ID,
    title: 'Account request',
    description: DESCRIPTION,
    ...rest,
  };
}

/** The schema file's text: stable key order, two-space indent, final newline. */
export function accountRequestJsonSchemaText(): string {
  return `${JSON.stringify(accountRequestJsonSchema(), null, 2)}\n`;
}
