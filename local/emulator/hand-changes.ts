import type { CodePipeline } from './codepipeline';
import type { Iam } from './iam-sts';
import type { Organizations } from './organizations';

/**
 * Changes someone makes to an account by hand, outside the factory and outside Control
 * Tower (the console, a script): what drift detection must notice. They bypass IAM and
 * the APIs' own rules on purpose, as a person with administrator access would.
 */
export class HandChanges {
  constructor(
    private readonly org: Organizations,
    private readonly iam: Iam,
    private readonly codePipeline: CodePipeline,
  ) {}

  private account(accountId: string) {
    const a = this.org.account(accountId);
    if (!a) throw new Error(`No account ${accountId} in the emulated organization`);
    return a;
  }

  /** Moves the account to another OU (by name or `Parent/Child` path, or `Root`), as Organizations' MoveAccount would. */
  moveAccount(accountId: string, ou: string): void {
    this.account(accountId);
    const parentId = ou === 'Root' ? this.org.rootId : this.org.requireOuByName(ou).id;
    this.org.moveAccountTo(accountId, parentId);
  }

  renameAccount(accountId: string, name: string): void {
    this.account(accountId).name = name;
  }

  /** The account's primary email changed (Account Management's primary email update). */
  changeEmail(accountId: string, email: string): void {
    this.account(accountId).email = email;
  }

  /** Sets (value) or removes (undefined) tags on the account. */
  editTags(accountId: string, tags: Record<string, string | undefined>): void {
    const account = this.account(accountId);
    for (const [key, value] of Object.entries(tags)) {
      if (value === undefined) account.tags.delete(key);
      else account.tags.set(key, value);
    }
  }

  /** Deletes a role (its policies detached first, as the console does). */
  deleteRole(accountId: string, roleName: string): void {
    if (!this.iam.rolesOf(accountId).delete(roleName)) {
      throw new Error(`No role ${roleName} in account ${accountId}`);
    }
  }

  /** Replaces a role's trust policy (seen by STS at once). */
  setTrustPolicy(accountId: string, roleName: string, trustPolicy: unknown): void {
    const role = this.iam.role(accountId, roleName);
    if (!role) throw new Error(`No role ${roleName} in account ${accountId}`);
    role.trustPolicy = JSON.stringify(trustPolicy);
    role.previousTrustPolicy = undefined;
    role.trustUpdatedAt = undefined;
  }

  /** Deletes a pipeline, wherever it is, by name. */
  deletePipeline(name: string): void {
    if (!this.codePipeline.deleteByName(name)) throw new Error(`No pipeline ${name}`);
  }

  /**
   * Changes what Control Tower deployed in the account (its AWSControlTowerBaseline
   * resources): the account's enabled baseline is in inheritance drift until Control Tower
   * enrolls it again.
   */
  markBaselineDrift(accountId: string): void {
    this.account(accountId).baselineChangedByHand = true;
  }
}
