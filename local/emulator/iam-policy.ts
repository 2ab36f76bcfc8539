/**
 * IAM policy evaluation for the emulator: identity-based policies and role trust
 * policies, pure functions over policy JSON and a request context.
 *
 * Sources (IAM User Guide):
 * - Policy evaluation logic, single account, and explicit vs implicit deny:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
 * - JSON policy elements (Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition):
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 * - Access denied message wording:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 *
 * What is modelled:
 * - Explicit Deny wins over Allow; no applicable Allow is an implicit deny.
 * - Action/NotAction: case-insensitive, `*` and `?` wildcards.
 * - Resource/NotResource: case-sensitive, `*` and `?` wildcards. In the first five
 *   ARN segments (arn, partition, service, region, account) a wildcard stays inside
 *   its segment, unless it is the trailing `*` of the pattern's last segment, which
 *   expands across colons (`arn:aws:iam::*`); the resource segment (everything after
 *   the fifth colon) matches freely, colons included.
 * - Conditions: keys are case-insensitive; every operator and every key of a
 *   statement must hold (AND); the values listed for one key are OR (for negated
 *   operators: the context value must match none of them). A key absent from the
 *   context makes a positive operator false and a negated operator (StringNotEquals,
 *   ArnNotLike, ...) true, as the condition operators page says; `...IfExists` is true
 *   when the key is absent; `Null` tests presence. `ForAnyValue:` is false and
 *   `ForAllValues:` true on an absent key or an empty set.
 * - A multivalued context key used without a set operator is treated like
 *   `ForAnyValue:` (positive operators) and its negation (negated operators).
 *   Assumption: the single-vs-multivalued page advises against that use.
 *
 * Not modelled (throws a clear Error rather than guess): policy variables (`${...}`),
 * IpAddress/NotIpAddress and Binary operators, unknown operators, Principal in an
 * identity policy, partial wildcards in a Principal ARN. Not modelled at all: SCPs,
 * permission boundaries, session policies, resource policies other than trust policies.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

export type ContextValue = string | string[] | boolean | undefined;

export interface RequestContext {
  action: string;
  resource: string;
  /**
   * Condition keys, e.g. 'aws:PrincipalArn', 'aws:PrincipalAccount', 'aws:SourceAccount',
   * 'iam:PassedToService', 'aws:SecureTransport', 'aws:RequestedRegion'. Key names are
   * case-insensitive; `undefined` is the same as absent.
   */
  keys?: Record<string, ContextValue>;
}

export type Decision =
  { effect: 'Allow' } | { effect: 'ExplicitDeny'; statement?: string } | { effect: 'ImplicitDeny' };

export interface Caller {
  /** STS assumed-role ARN, IAM role or user ARN, or a service principal. */
  arn: string;
  /** The role behind an assumed-role session (with its path). Derived from `arn` when absent (path lost). */
  roleArn?: string;
  accountId?: string;
  /** A service principal, e.g. 'lambda.amazonaws.com'. */
  service?: string;
}

/** Thrown for a policy this evaluator cannot judge faithfully. */
export class UnsupportedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPolicyError';
  }
}

// ---------------------------------------------------------------------------
// Identity-based policies

export function evaluateIdentityPolicies(documents: PolicyDocument[], request: RequestContext): Decision {
  const statements = documents.flatMap((d) => statementsOf(d));
  for (const s of statements) {
    if (s.Principal !== undefined || s.NotPrincipal !== undefined) {
      throw new UnsupportedPolicyError(
        `statement ${s.Sid ?? '(no Sid)'}: Principal/NotPrincipal is not allowed in an identity-based policy`,
      );
    }
    if (s.Resource === undefined && s.NotResource === undefined) {
      throw new UnsupportedPolicyError(
        `statement ${s.Sid ?? '(no Sid)'}: an identity-based policy statement needs Resource or NotResource`,
      );
    }
  }
  return decide(statements, (s) => statementApplies(s, request));
}

// ---------------------------------------------------------------------------
// Trust policies (resource-based policy of a role)

export function evaluateTrustPolicy(
  document: PolicyDocument | string,
  caller: Caller,
  request: RequestContext,
): Decision {
  return trustEvaluation(document, caller, request).decision;
}

/** How a Principal element matched the caller. */
type PrincipalMatch = 'named' | 'account' | 'everyone' | 'service';

function trustEvaluation(
  document: PolicyDocument | string,
  caller: Caller,
  request: RequestContext,
): { decision: Decision; namedAllow: boolean } {
  const doc: PolicyDocument = typeof document === 'string' ? JSON.parse(document) : document;
  const statements = statementsOf(doc);
  const who = callerFacts(caller);
  const keys: Record<string, ContextValue> = {
    'aws:PrincipalArn': who.principalArn,
    'aws:PrincipalAccount': who.accountId,
    ...(caller.service ? { 'aws:PrincipalServiceName': caller.service } : {}),
    ...(request.keys ?? {}),
  };
  const withKeys: RequestContext = { ...request, keys };
  let namedAllow = false;
  const decision = decide(statements, (s) => {
    if (s.Principal !== undefined && s.NotPrincipal !== undefined) {
      throw new UnsupportedPolicyError(`statement ${s.Sid ?? '(no Sid)'}: both Principal and NotPrincipal`);
    }
    if (s.Principal === undefined && s.NotPrincipal === undefined) {
      throw new UnsupportedPolicyError(
        `statement ${s.Sid ?? '(no Sid)'}: a trust policy statement needs Principal or NotPrincipal`,
      );
    }
    let match: PrincipalMatch | undefined;
    if (s.Principal !== undefined) match = principalMatch(s.Principal, who);
    else match = principalMatch(s.NotPrincipal, who) ? undefined : 'everyone';
    if (!match) return false;
    // Trust policies carry no Resource: the role itself is the resource.
    const noResource = s.Resource === undefined && s.NotResource === undefined;
    const applies = noResource ? actionAndConditionApply(s, withKeys) : statementApplies(s, withKeys);
    if (applies && s.Effect === 'Allow' && (match === 'named' || match === 'service')) namedAllow = true;
    return applies;
  });
  return { decision, namedAllow };
}

/**
 * sts:AssumeRole as AWS decides it: the role's trust policy must allow the caller, and an
 * explicit deny in either policy denies. Across accounts the caller's identity policies
 * must allow it too. In the same account a trust policy that names the caller's role or
 * session ARN is enough on its own; one that trusts the account (or "*") delegates to the
 * account, whose identity policies must then allow it.
 * Sources: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 * and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * (AWS account principals).
 */
export function evaluateAssumeRole(
  identityDocuments: PolicyDocument[],
  trustDocument: PolicyDocument | string,
  caller: Caller,
  roleArn: string,
  keys: RequestContext['keys'] = {},
): { decision: Decision; policyType: 'identity-based' | 'resource-based' } {
  const request: RequestContext = { action: 'sts:AssumeRole', resource: roleArn, keys };
  const who = callerFacts(caller);
  const identity = evaluateIdentityPolicies(identityDocuments, {
    ...request,
    keys: { 'aws:PrincipalArn': who.principalArn, 'aws:PrincipalAccount': who.accountId, ...keys },
  });
  if (identity.effect === 'ExplicitDeny') return { decision: identity, policyType: 'identity-based' };
  const trust = trustEvaluation(trustDocument, caller, request);
  if (trust.decision.effect !== 'Allow') return { decision: trust.decision, policyType: 'resource-based' };
  const roleAccount = /^arn:[^:]+:iam::(\d{12}):role\//.exec(roleArn)?.[1];
  const sameAccount = roleAccount !== undefined && roleAccount === who.accountId;
  if (identity.effect === 'Allow' || (sameAccount && trust.namedAllow)) {
    return { decision: { effect: 'Allow' }, policyType: 'identity-based' };
  }
  return { decision: identity, policyType: 'identity-based' };
}

interface CallerFacts {
  arn: string;
  roleArn?: string;
  accountId?: string;
  service?: string;
  /** What aws:PrincipalArn holds: the role ARN for a role session, else the caller ARN. */
  principalArn?: string;
}

const ASSUMED_ROLE = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;
const IAM_ENTITY = /^arn:([^:]+):iam::(\d{12}):(role|user)\/.+$/;

function callerFacts(caller: Caller): CallerFacts {
  if (caller.service) {
    return { arn: caller.arn, service: caller.service, principalArn: undefined };
  }
  const assumed = ASSUMED_ROLE.exec(caller.arn);
  const entity = IAM_ENTITY.exec(caller.arn);
  const accountId = caller.accountId ?? assumed?.[2] ?? entity?.[2];
  let roleArn = caller.roleArn;
  if (!roleArn && assumed) roleArn = `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  if (!roleArn && entity?.[3] === 'role') roleArn = caller.arn;
  return { arn: caller.arn, roleArn, accountId, principalArn: roleArn ?? caller.arn };
}

function principalMatch(principal: unknown, who: CallerFacts): PrincipalMatch | undefined {
  if (principal === '*') return 'everyone';
  if (typeof principal !== 'object' || principal === null || Array.isArray(principal)) {
    throw new UnsupportedPolicyError(`Principal must be "*" or an object, got ${JSON.stringify(principal)}`);
  }
  let found: PrincipalMatch | undefined;
  for (const [kind, raw] of Object.entries(principal as Record<string, unknown>)) {
    const values = asList(raw as string | string[]);
    for (const v of values) {
      if (typeof v !== 'string') throw new UnsupportedPolicyError(`Principal ${kind}: not a string: ${v}`);
      rejectPolicyVariable(v);
      let m: PrincipalMatch | undefined;
      if (kind === 'AWS') {
        if (v === '*') m = 'everyone';
        else if (v.includes('*') || v.includes('?')) {
          throw new UnsupportedPolicyError(`Principal AWS "${v}": wildcards are only allowed as "*"`);
        } else m = awsPrincipalMatch(v, who);
      } else if (kind === 'Service') {
        if (who.service !== undefined && v === who.service) m = 'service';
      } else if (kind === 'Federated' || kind === 'CanonicalUser') {
        // Not emulated: no caller is federated or an S3 canonical user.
      } else {
        throw new UnsupportedPolicyError(`Principal type "${kind}" is not known`);
      }
      // The most specific match wins: a named principal over its account.
      if (m === 'named' || m === 'service') return m;
      found ??= m;
    }
  }
  return found;
}

const ACCOUNT_ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;

function awsPrincipalMatch(value: string, who: CallerFacts): PrincipalMatch | undefined {
  if (who.service) return undefined;
  if (/^\d{12}$/.test(value)) return who.accountId === value ? 'account' : undefined;
  const root = ACCOUNT_ROOT.exec(value);
  if (root) return who.accountId === root[1] ? 'account' : undefined;
  // A role ARN matches its sessions; a session ARN or user ARN matches itself.
  return value === who.arn || (who.roleArn !== undefined && value === who.roleArn) ? 'named' : undefined;
}

// ---------------------------------------------------------------------------
// Shared statement evaluation

function statementsOf(doc: PolicyDocument): PolicyStatement[] {
  if (!doc || doc.Statement === undefined)
    throw new UnsupportedPolicyError('policy document without Statement');
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

function decide(statements: PolicyStatement[], applies: (s: PolicyStatement) => boolean): Decision {
  let allowed = false;
  for (const s of statements) {
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      throw new UnsupportedPolicyError(`statement ${s.Sid ?? '(no Sid)'}: Effect must be Allow or Deny`);
    }
    if (!applies(s)) continue;
    if (s.Effect === 'Deny') return { effect: 'ExplicitDeny', statement: s.Sid };
    allowed = true;
  }
  return allowed ? { effect: 'Allow' } : { effect: 'ImplicitDeny' };
}

/**
 * Whether a statement's `element` (or its `NotElement`) covers the request: undefined when
 * the statement has neither. Both at once is refused, as IAM refuses the policy.
 */
function elementMatches(
  s: PolicyStatement,
  element: 'Resource' | 'Action',
  notElement: 'NotResource' | 'NotAction',
  matches: (pattern: string) => boolean,
): boolean | undefined {
  if (s[element] !== undefined && s[notElement] !== undefined) {
    throw new UnsupportedPolicyError(`statement ${s.Sid ?? '(no Sid)'}: both ${element} and ${notElement}`);
  }
  if (s[element] !== undefined) return asList(s[element]).some(matches);
  if (s[notElement] !== undefined) return !asList(s[notElement]).some(matches);
  return undefined;
}

function statementApplies(s: PolicyStatement, request: RequestContext): boolean {
  const resource = elementMatches(s, 'Resource', 'NotResource', (p) => resourceMatches(p, request.resource));
  if (resource === false) return false;
  return actionAndConditionApply(s, request);
}

function actionAndConditionApply(s: PolicyStatement, request: RequestContext): boolean {
  const action = elementMatches(s, 'Action', 'NotAction', (p) => actionMatches(p, request.action));
  if (action === undefined) {
    throw new UnsupportedPolicyError(`statement ${s.Sid ?? '(no Sid)'}: needs Action or NotAction`);
  }
  if (!action) return false;
  return s.Condition === undefined || conditionHolds(s.Condition, request.keys ?? {});
}

function asList<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

function rejectPolicyVariable(value: string): void {
  if (value.includes('${')) {
    throw new UnsupportedPolicyError(`policy variables are not supported: "${value}"`);
  }
}

/** Compiled patterns: the same policies are evaluated on every call. */
const COMPILED = new Map<string, RegExp>();
/** A glob pattern (`*`, `?`) as an anchored RegExp, compiled once. */
function glob(pattern: string, anyChar: string, flags: string): RegExp {
  const key = `${flags}/${anyChar}/${pattern}`;
  let re = COMPILED.get(key);
  if (!re) {
    re = new RegExp(`^${globToRegExpSource(pattern, anyChar)}$`, flags);
    COMPILED.set(key, re);
  }
  return re;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
}

/** `*` and `?` wildcards; `anyChar` is the class a wildcard may match. */
function globToRegExpSource(pattern: string, anyChar: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += `${anyChar}*`;
    else if (ch === '?') out += anyChar;
    else out += escapeRegExp(ch);
  }
  return out;
}

export function actionMatches(pattern: string, action: string): boolean {
  rejectPolicyVariable(pattern);
  return glob(pattern, '.', 'is').test(action);
}

/** Resource element matching (see the header for the segment rule). */
export function resourceMatches(pattern: string, resource: string): boolean {
  rejectPolicyVariable(pattern);
  if (pattern === '*') return true;
  if (!pattern.startsWith('arn:')) return glob(pattern, '.', 's').test(resource);
  return arnPattern(pattern).test(resource);
}

/** An ARN pattern as a RegExp: `*` and `?` stay within a segment, but in the resource part. */
function arnPattern(pattern: string): RegExp {
  const key = `arn/${pattern}`;
  const cached = COMPILED.get(key);
  if (cached) return cached;
  const parts = splitArn(pattern);
  let source = '';
  parts.forEach((part, i) => {
    if (i > 0) source += ':';
    const last = i === parts.length - 1;
    if (i === 5) source += globToRegExpSource(part, '.');
    else if (last && part.endsWith('*')) source += globToRegExpSource(part.slice(0, -1), '[^:]') + '.*';
    else source += globToRegExpSource(part, '[^:]');
  });
  const re = new RegExp(`^${source}$`, 's');
  COMPILED.set(key, re);
  return re;
}

/** Splits an ARN into at most six parts: the resource part keeps its colons. */
function splitArn(arn: string): string[] {
  const parts = arn.split(':');
  return parts.length <= 6 ? parts : [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** ArnEquals/ArnLike: each of the six components is matched separately, wildcards allowed. */
function arnLike(pattern: string, value: string): boolean {
  const p = splitArn(pattern);
  const v = splitArn(value);
  if (p.length !== 6 || v.length !== 6 || p[0] !== 'arn' || v[0] !== 'arn') return false;
  return p.every((part, i) => glob(part, i === 5 ? '.' : '[^:]', 's').test(v[i]));
}

// ---------------------------------------------------------------------------
// Conditions

type Matcher = (contextValue: string, policyValue: string) => boolean;

interface OperatorSpec {
  match: Matcher;
  negated: boolean;
}

function numeric(cmp: (a: number, b: number) => boolean): Matcher {
  return (c, p) => {
    const a = Number(c);
    const b = Number(p);
    return !Number.isNaN(a) && !Number.isNaN(b) && cmp(a, b);
  };
}

function toEpoch(v: string): number {
  return /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
}

function date(cmp: (a: number, b: number) => boolean): Matcher {
  return (c, p) => {
    const a = toEpoch(c);
    const b = toEpoch(p);
    return !Number.isNaN(a) && !Number.isNaN(b) && cmp(a, b);
  };
}

const stringLike: Matcher = (c, p) => glob(p, '.', 's').test(c);
const equalsIgnoreCase: Matcher = (c, p) => c.toLowerCase() === p.toLowerCase();
const equals: Matcher = (c, p) => c === p;
const arn: Matcher = (c, p) => arnLike(p, c);

const OPERATORS: Record<string, OperatorSpec> = {
  StringEquals: { match: equals, negated: false },
  StringNotEquals: { match: equals, negated: true },
  StringEqualsIgnoreCase: { match: equalsIgnoreCase, negated: false },
  StringNotEqualsIgnoreCase: { match: equalsIgnoreCase, negated: true },
  StringLike: { match: stringLike, negated: false },
  StringNotLike: { match: stringLike, negated: true },
  NumericEquals: { match: numeric((a, b) => a === b), negated: false },
  NumericNotEquals: { match: numeric((a, b) => a === b), negated: true },
  NumericLessThan: { match: numeric((a, b) => a < b), negated: false },
  NumericLessThanEquals: { match: numeric((a, b) => a <= b), negated: false },
  NumericGreaterThan: { match: numeric((a, b) => a > b), negated: false },
  NumericGreaterThanEquals: { match: numeric((a, b) => a >= b), negated: false },
  DateEquals: { match: date((a, b) => a === b), negated: false },
  DateNotEquals: { match: date((a, b) => a === b), negated: true },
  DateLessThan: { match: date((a, b) => a < b), negated: false },
  DateLessThanEquals: { match: date((a, b) => a <= b), negated: false },
  DateGreaterThan: { match: date((a, b) => a > b), negated: false },
  DateGreaterThanEquals: { match: date((a, b) => a >= b), negated: false },
  Bool: { match: equalsIgnoreCase, negated: false },
  ArnEquals: { match: arn, negated: false },
  ArnLike: { match: arn, negated: false },
  ArnNotEquals: { match: arn, negated: true },
  ArnNotLike: { match: arn, negated: true },
};

const KNOWN_UNSUPPORTED = new Set(['IpAddress', 'NotIpAddress', 'BinaryEquals']);

interface ParsedOperator {
  set?: 'ForAnyValue' | 'ForAllValues';
  base: string;
  ifExists: boolean;
}

function parseOperator(operator: string): ParsedOperator {
  let rest = operator;
  let set: ParsedOperator['set'];
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const prefix = rest.slice(0, colon);
    if (prefix === 'ForAnyValue' || prefix === 'ForAllValues') set = prefix;
    else throw new UnsupportedPolicyError(`unknown condition set operator "${prefix}" in "${operator}"`);
    rest = rest.slice(colon + 1);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists') && rest !== 'IfExists') {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  return { set, base: rest, ifExists };
}

/** Normalises a context value to a list of strings; `undefined` when the key is absent. */
function contextValues(keys: Record<string, ContextValue>, key: string): string[] | undefined {
  const lower = key.toLowerCase();
  let value: ContextValue;
  for (const [k, v] of Object.entries(keys)) {
    if (k.toLowerCase() === lower && v !== undefined) {
      value = v;
      break;
    }
  }
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return [String(value)];
  return asList(value).map(String);
}

function policyValues(raw: unknown, operator: string, key: string): string[] {
  const list = asList(raw as unknown);
  return list.map((v) => {
    if (typeof v === 'string') {
      rejectPolicyVariable(v);
      return v;
    }
    if (typeof v === 'boolean' || typeof v === 'number') return String(v);
    throw new UnsupportedPolicyError(`condition ${operator} ${key}: unsupported value ${JSON.stringify(v)}`);
  });
}

function conditionHolds(
  condition: Record<string, Record<string, unknown>>,
  keys: Record<string, ContextValue>,
) {
  for (const [operator, block] of Object.entries(condition)) {
    const op = parseOperator(operator);
    for (const [key, raw] of Object.entries(block)) {
      if (!keyHolds(op, operator, key, policyValues(raw, operator, key), contextValues(keys, key)))
        return false;
    }
  }
  return true;
}

function keyHolds(
  op: ParsedOperator,
  operator: string,
  key: string,
  values: string[],
  context: string[] | undefined,
): boolean {
  if (op.base === 'Null') {
    if (op.set || op.ifExists) throw new UnsupportedPolicyError(`"${operator}" is not a valid operator`);
    const wantAbsent = values.map((v) => v.toLowerCase());
    const absent = context === undefined || context.length === 0;
    return wantAbsent.some((v) => (v === 'true' ? absent : v === 'false' ? !absent : badNull(v)));
  }
  if (KNOWN_UNSUPPORTED.has(op.base)) {
    throw new UnsupportedPolicyError(`condition operator "${operator}" is not supported by the emulator`);
  }
  const spec = OPERATORS[op.base];
  if (!spec) throw new UnsupportedPolicyError(`unknown condition operator "${operator}" (key ${key})`);

  // One context value against the policy values: OR for positive operators, NOR for negated ones.
  const one = (c: string) => {
    const any = values.some((p) => spec.match(c, p));
    return spec.negated ? !any : any;
  };

  if (context === undefined) {
    if (op.ifExists) return true;
    if (op.set === 'ForAllValues') return true;
    if (op.set === 'ForAnyValue') return false;
    return spec.negated;
  }
  if (op.set === 'ForAllValues') return context.every(one);
  if (op.set === 'ForAnyValue') return context.some(one);
  // No set operator: a single value is the usual case; a multivalued key is "any" (see header).
  return spec.negated ? context.every(one) : context.some(one);
}

function badNull(v: string): never {
  throw new UnsupportedPolicyError(`Null condition value must be "true" or "false", got "${v}"`);
}

// ---------------------------------------------------------------------------
// Messages

/**
 * AWS's AccessDenied wording. `policyType` names the policy that failed to allow or
 * denied: 'identity-based' for identity policies, 'resource-based' for a trust policy.
 */
export function authorizationMessage(
  callerArn: string,
  action: string,
  resource: string,
  decision: Decision,
  policyType: 'identity-based' | 'resource-based' = 'identity-based',
): string {
  const head = `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource}`;
  if (decision.effect === 'ExplicitDeny') return `${head} with an explicit deny in an ${policyType} policy`;
  if (decision.effect === 'ImplicitDeny')
    return `${head} because no ${policyType} policy allows the ${action} action`;
  throw new Error(
    `authorizationMessage: ${action} on ${resource} was allowed; there is no denial to describe`,
  );
}
