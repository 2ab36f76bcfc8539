import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The account request: one schema for the AccountRequest construct (checked at synth),
 * the request files (checked by the CLI and the app), and the Validate request step.
 */

/** ASCII-only, as Organizations requires; no leading dot, no consecutive dots, a dotted domain. */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** Organizations: printable ASCII except '<' and '>' (and no control characters). */
const ACCOUNT_NAME = /^[ -;=?-~]+$/;
/** Organizations OU id: ou-<root suffix>-<ou suffix>. */
export const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** "Name" or "Name (ou-xxxx-xxxxxxxx)", as Control Tower's Account Factory takes it. */
const OU_WITH_ID = /^(.*\S) \((ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})\)$/;
/** Organizations tag keys and values: letters, separators, digits and _.:/=+-@ (no control or format characters). */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const CUSTOM_FIELD_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
const CUSTOMIZATIONS_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** No control characters, no zero-width or bidi-override characters. */
const PLAIN_TEXT = /^[^\p{Cc}\p{Cf}]*$/u;

export const MAX_TAGS = 50;
export const MAX_CUSTOM_FIELDS = 50;
export const MAX_CUSTOM_FIELD_VALUE = 1024;
/** Custom fields are stored in the metadata item and passed to customizations: keep them small. */
export const MAX_CUSTOM_FIELDS_BYTES = 16 * 1024;

/** Rejected, never trimmed: a request is applied as written or not at all. */
const noEdgeWhitespace = (v: string) => v.trim() === v;
const edgeMessage = (what: string) => `${what} must not start or end with whitespace`;

const email = (what: string) =>
  z
    .string({ error: `${what} is required and must be a string` })
    .refine(noEdgeWhitespace, { message: edgeMessage(what), abort: true })
    .regex(PLAIN_TEXT, `${what} must not contain control or invisible characters`)
    .min(6, `${what} must be at least 6 characters`)
    .max(64, `${what} must be at most 64 characters`)
    .regex(EMAIL, `${what} must be a plain ASCII email address (name@example.com)`)
    .transform((v) => v.toLowerCase());

const personName = (what: string) =>
  z
    .string({ error: `${what} is required and must be a string` })
    .refine(noEdgeWhitespace, { message: edgeMessage(what), abort: true })
    .min(1, `${what} must not be empty`)
    .max(50, `${what} must be at most 50 characters`)
    .regex(PLAIN_TEXT, `${what} must not contain control or invisible characters`);

export const SsoUserSchema = z.strictObject({
  email: email('sso.email'),
  firstName: personName('sso.firstName'),
  lastName: personName('sso.lastName'),
});

const tagKey = z
  .string()
  .min(1, 'tag keys must not be empty')
  .max(128, 'tag keys must be at most 128 characters')
  .regex(TAG_CHARS, 'tag keys may only contain letters, digits, spaces and _.:/=+-@')
  .refine(
    (k) => !k.toLowerCase().startsWith('aws:'),
    'tag keys must not start with "aws:" (reserved by AWS)',
  );

const tagValue = z
  .string({ error: 'tag values must be strings' })
  .max(256, 'tag values must be at most 256 characters')
  .regex(TAG_CHARS, 'tag values may only contain letters, digits, spaces and _.:/=+-@');

// ---------------------------------------------------------------------------------
// Account settings: alternate contacts, opt-in Regions, Identity Center access.

/**
 * Alternate contacts, checked exactly as the Account Management API checks them
 * (AlternateContact / PutAlternateContact, https://docs.aws.amazon.com/accounts/latest/reference/API_AlternateContact.html):
 * Name 1-64 characters, Title 1-50, EmailAddress 1-254 matching
 * `[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*`, PhoneNumber 1-25 matching `[\s0-9()+-]+`.
 */
export const ALTERNATE_CONTACT_EMAIL = /^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$/;
export const ALTERNATE_CONTACT_PHONE = /^[\s0-9()+-]+$/;
export const ALTERNATE_CONTACT_TYPES = ['billing', 'operations', 'security'] as const;
export type AlternateContactKind = (typeof ALTERNATE_CONTACT_TYPES)[number];

const contactText = (what: string, max: number) =>
  z
    .string({ error: `${what} is required and must be a string` })
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`);

const alternateContact = (kind: AlternateContactKind) =>
  z.strictObject({
    name: contactText(`alternateContacts.${kind}.name`, 64),
    title: contactText(`alternateContacts.${kind}.title`, 50),
    email: contactText(`alternateContacts.${kind}.email`, 254).regex(
      ALTERNATE_CONTACT_EMAIL,
      `alternateContacts.${kind}.email must be an email address (name@example.com)`,
    ),
    phone: contactText(`alternateContacts.${kind}.phone`, 25).regex(
      ALTERNATE_CONTACT_PHONE,
      `alternateContacts.${kind}.phone may only contain digits, spaces and ( ) + -`,
    ),
  });

export const AlternateContactsSchema = z.strictObject({
  billing: alternateContact('billing').optional(),
  operations: alternateContact('operations').optional(),
  security: alternateContact('security').optional(),
});
export type AlternateContacts = z.output<typeof AlternateContactsSchema>;
export type AlternateContact = NonNullable<AlternateContacts['billing']>;

/**
 * The opt-in Regions of the `aws` partition: "Regions launched after March 20, 2019 are
 * disabled by default" (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html),
 * as the Region table marks them "Opt-in required"
 * (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
 * The AWS GovCloud (US) and China partitions have none. A default Region (us-east-1, ...)
 * cannot be enabled or disabled, so it has no place in `regions`. The emulator keeps its
 * own copy from the same source (EMULATED_OPT_IN_REGIONS in local/emulator/account.ts);
 * test/local/emulator/opt-in-regions.test.ts checks the two agree.
 */
export const OPT_IN_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-south-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-west-1',
  'eu-central-2',
  'eu-south-1',
  'eu-south-2',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
] as const;

const optInRegion = z
  .string({ error: 'regions must hold Region codes (strings such as af-south-1)' })
  .refine((r) => (OPT_IN_REGIONS as readonly string[]).includes(r), {
    error: (issue) =>
      `"${String(issue.input)}" is not an opt-in Region of the aws partition (Regions that are enabled by default need no entry): one of ${OPT_IN_REGIONS.join(', ')}`,
  });

/**
 * Identity Center names, as the APIs take them: a group's DisplayName (1-1024), a user's
 * UserName (1-128), a permission set's Name (1-32 of `[\w+=,.@-]`).
 * https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_Group.html,
 * https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_User.html,
 * https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html
 */
export const PERMISSION_SET_NAME = /^[\w+=,.@-]+$/;

export const IdentityCenterAssignmentSchema = z
  .strictObject({
    group: z
      .string({ error: 'group must be a string (the group display name)' })
      .min(1, 'group must not be empty')
      .max(1024, 'group must be at most 1024 characters')
      .refine(noEdgeWhitespace, { message: edgeMessage('group'), abort: true })
      .optional(),
    user: z
      .string({ error: 'user must be a string (the user name)' })
      .min(1, 'user must not be empty')
      .max(128, 'user must be at most 128 characters')
      .refine(noEdgeWhitespace, { message: edgeMessage('user'), abort: true })
      .optional(),
    permissionSet: z
      .string({ error: 'permissionSet is required and must be a string (the permission set name)' })
      .min(1, 'permissionSet must not be empty')
      .max(32, 'permissionSet must be at most 32 characters')
      .regex(PERMISSION_SET_NAME, 'permissionSet may only contain A-Z a-z 0-9 and +=,.@-_'),
  })
  .refine((a) => (a.group === undefined) !== (a.user === undefined), {
    message: 'an identityCenter assignment names exactly one of group or user',
  });
export type IdentityCenterAssignment = z.output<typeof IdentityCenterAssignmentSchema>;

/** `group:Developers -> PowerUserAccess`: one key per assignment. */
export function assignmentKey(a: IdentityCenterAssignment): string {
  return `${a.group !== undefined ? `group:${a.group}` : `user:${a.user}`} -> ${a.permissionSet}`;
}

function duplicatesOf(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

export const AccountRequestSchema = z.strictObject({
  accountEmail: email('accountEmail'),
  accountName: z
    .string({ error: 'accountName is required and must be a string' })
    .min(1, 'accountName must not be empty')
    .max(50, 'accountName must be at most 50 characters')
    .regex(
      ACCOUNT_NAME,
      'accountName may only contain printable ASCII characters other than < and > (no control characters)',
    )
    .refine(noEdgeWhitespace, { message: edgeMessage('accountName'), abort: true }),
  organizationalUnit: z
    .string({ error: 'organizationalUnit is required and must be a string' })
    .min(1, 'organizationalUnit must not be empty')
    .max(170, 'organizationalUnit must be at most 170 characters')
    .regex(PLAIN_TEXT, 'organizationalUnit must not contain control or invisible characters')
    .refine(noEdgeWhitespace, { message: edgeMessage('organizationalUnit'), abort: true })
    .superRefine((v, ctx) => {
      const problem = organizationalUnitIdProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .refine(
      (v) => parseOrganizationalUnit(v).name.length <= 128,
      'organizationalUnit must be an OU name (up to 128 characters) or "Name (ou-xxxx-xxxxxxxx)"',
    ),
  sso: SsoUserSchema,
  tags: z
    .record(tagKey, tagValue)
    .refine((t) => Object.keys(t).length <= MAX_TAGS, `tags may hold at most ${MAX_TAGS} entries`)
    .default({}),
  customFields: z
    .record(
      z
        .string()
        .regex(
          CUSTOM_FIELD_KEY,
          'custom field keys must start with a letter and use A-Z a-z 0-9 _ . - (at most 128)',
        ),
      z
        .string({ error: 'custom field values must be strings' })
        .max(
          MAX_CUSTOM_FIELD_VALUE,
          `custom field values must be at most ${MAX_CUSTOM_FIELD_VALUE} characters`,
        )
        .regex(PLAIN_TEXT, 'custom field values must not contain control or invisible characters'),
    )
    .refine(
      (f) => Object.keys(f).length <= MAX_CUSTOM_FIELDS,
      `customFields may hold at most ${MAX_CUSTOM_FIELDS} entries`,
    )
    .refine(
      (f) => Buffer.byteLength(JSON.stringify(f)) <= MAX_CUSTOM_FIELDS_BYTES,
      `customFields must be at most ${MAX_CUSTOM_FIELDS_BYTES} bytes in all`,
    )
    .default({}),
  customizationsName: z
    .string()
    .regex(
      CUSTOMIZATIONS_NAME,
      'customizationsName must be 1-64 characters of A-Z a-z 0-9 _ - starting with a letter or digit',
    )
    .optional(),
  /**
   * Who asked for this request version (an email or an IAM principal ARN): with approvals,
   * this principal cannot approve it.
   */
  requestedBy: z
    .string({ error: 'requestedBy must be a string' })
    .min(1, 'requestedBy must not be empty')
    .max(256, 'requestedBy must be at most 256 characters')
    .regex(PLAIN_TEXT, 'requestedBy must not contain control or invisible characters')
    .optional(),
  /** Close the account when its request is removed. Never the default: removal only ends management. */
  closeOnRemoval: z.boolean({ error: 'closeOnRemoval must be true or false' }).default(false),
  /** Billing, operations and security contacts; a contact dropped from the request is deleted only if the factory set it. */
  alternateContacts: AlternateContactsSchema.optional(),
  /** Opt-in Regions to enable in the account. */
  regions: z
    .array(optInRegion, { error: 'regions must be a list of opt-in Region codes' })
    .superRefine((list, ctx) => {
      const dup = duplicatesOf(list);
      if (dup.length)
        ctx.addIssue({ code: 'custom', message: `regions lists ${dup.join(', ')} more than once` });
    })
    .optional(),
  /** A Region the factory enabled and the request no longer lists is disabled. Never the default: removing a Region from the list leaves it enabled. */
  disableRemovedRegions: z.boolean({ error: 'disableRemovedRegions must be true or false' }).optional(),
  /** Identity Center access: groups or users, each with a permission set, by name. */
  identityCenter: z
    .array(IdentityCenterAssignmentSchema, {
      error: 'identityCenter must be a list of { group | user, permissionSet }',
    })
    .superRefine((list, ctx) => {
      const dup = duplicatesOf(list.map(assignmentKey));
      if (dup.length)
        ctx.addIssue({ code: 'custom', message: `identityCenter lists ${dup.join(', ')} more than once` });
    })
    .optional(),
});

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** A request as written by a user (before defaults). */
export type AccountRequestInput = z.input<typeof AccountRequestSchema>;
/** A validated, normalized request (emails lower-cased, defaults filled in). */
export type AccountRequest = z.output<typeof AccountRequestSchema>;

export interface RequestIssue {
  /** Dotted path of the field, e.g. `tags.aws:createdBy` or `sso.email`. */
  field: string;
  message: string;
}

export type ParseResult = { ok: true; request: AccountRequest } | { ok: false; issues: RequestIssue[] };

export function parseAccountRequest(input: unknown): ParseResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      issues: [
        {
          field: '(request)',
          message: `an account request must be an object of fields (accountEmail, accountName, ...), not ${describe(input)}`,
        },
      ],
    };
  }
  const result = AccountRequestSchema.safeParse(input);
  if (result.success) return { ok: true, request: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((i) => ({
      field: i.path.length ? i.path.map(String).join('.') : '(request)',
      message: issueMessage(i),
    })),
  };
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field(s): ${issue.keys.join(', ')}`;
  // A bad record key: zod nests the key's own issues; say what is wrong with the key.
  if (issue.code === 'invalid_key') return issue.issues.map((i) => i.message).join('; ');
  return issue.message;
}

export function formatIssues(issues: RequestIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}

/** "Sandbox" -> { name: 'Sandbox' }; "Sandbox (ou-ab12-cdef3456)" -> { name, id }. */
export function parseOrganizationalUnit(value: string): { name: string; id?: string } {
  const m = OU_WITH_ID.exec(value);
  return m ? { name: m[1], id: m[2] } : { name: value };
}

/**
 * A value that ends like "(ou-...)" must be "Name (ou-xxxx-xxxxxxxx)" exactly: the
 * schema rejects a malformed id, so the file loader, `validate` and the workflow
 * agree (an OU name may hold parentheses, but not a would-be OU id).
 */
export function organizationalUnitIdProblem(value: string): string | undefined {
  const parsed = parseOrganizationalUnit(value);
  if (parsed.id) {
    return parsed.name.trim() === parsed.name
      ? undefined
      : `write "${parsed.name.trim()} (${parsed.id})" (one space, then the OU id in parentheses)`;
  }
  const suffix = /^(.*?)\s*\(\s*(ou-[^)]*?)\s*\)$/i.exec(value);
  if (!suffix) return undefined;
  const [, name, id] = suffix;
  const wanted = `write "${name || 'Name'} (${id.toLowerCase()})" (one space, then the OU id in parentheses)`;
  if (OU_ID.test(id)) return wanted;
  if (OU_ID.test(id.toLowerCase())) return `OU ids are lower case: ${wanted}`;
  return `"${id}" is not an OU id (ou-xxxx-xxxxxxxx): write "Name" or "Name (ou-xxxx-xxxxxxxx)"`;
}

/** The requests table key: one request per account email. */
export function requestIdOf(request: Pick<AccountRequest, 'accountEmail'>): string {
  return request.accountEmail.trim().toLowerCase();
}

/** Control Tower parameters: a change to any of these needs an UpdateProvisionedProduct. */
export function controlTowerParameters(r: AccountRequest): Record<string, string> {
  return {
    AccountEmail: r.accountEmail,
    AccountName: r.accountName,
    ManagedOrganizationalUnit: r.organizationalUnit,
    SSOUserEmail: r.sso.email,
    SSOUserFirstName: r.sso.firstName,
    SSOUserLastName: r.sso.lastName,
  };
}

/** The Control Tower parameter names whose values differ between two requests. */
export function controlTowerChanges(before: AccountRequest, after: AccountRequest): string[] {
  const a = controlTowerParameters(before);
  const b = controlTowerParameters(after);
  return Object.keys(b).filter((k) => a[k] !== b[k]);
}

function shortHash(value: string, length = 10): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * Step Functions execution name for one version of one request: deterministic, so a
 * duplicate stream record starts nothing twice (ExecutionAlreadyExists).
 * `writtenAt` (the item's updatedAt) tells apart two lives of one request: a request
 * removed and written again starts over at version 1, and must not be taken for a
 * duplicate of the first life's version 1. At most 80 characters of [A-Za-z0-9-_].
 */
export function executionName(
  requestId: string,
  version: number,
  eventName: string,
  writtenAt?: string,
): string {
  const slug = requestId
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  const kind = eventName === 'REMOVE' ? 'remove' : 'v';
  const life = writtenAt ? `-${shortHash(writtenAt, 6)}` : '';
  return `${slug}-${shortHash(requestId, 8)}-${kind}${version}${life}`;
}

/**
 * Service Catalog ProvisionToken / UpdateToken: derived from the request id and version,
 * so a retried step never creates a second account. 1-128 of [a-zA-Z0-9_-].
 */
export function idempotencyToken(requestId: string, version: number, operation: string): string {
  return `${operation.toLowerCase()}-${shortHash(`${requestId}#${version}#${operation}`, 40)}`;
}

/**
 * Service Catalog provisioned product name pattern (ProvisionProduct API reference,
 * ProvisionedProductName: "Length Constraints: Minimum length of 1. Maximum length of 128.
 * Pattern: [a-zA-Z0-9][a-zA-Z0-9._-]*").
 * https://docs.aws.amazon.com/servicecatalog/latest/dg/API_ProvisionProduct.html
 */
export const PROVISIONED_PRODUCT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

/**
 * Service Catalog provisioned product name for an account: stable across edits (derived from
 * the account name and the request id), unique per request (the hash of the request id), and
 * valid for every valid account name: characters Service Catalog does not take become `-`, and
 * the name never starts with anything but a letter or digit (an account name such as
 * `_platform` or `-x` has none to start with). Names that were valid before keep their value.
 */
export function provisionedProductName(request: AccountRequest): string {
  const slug = request.accountName
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|-+$/g, '')
    .slice(0, 60);
  return `${slug || 'account'}-${shortHash(requestIdOf(request), 8)}`;
}
