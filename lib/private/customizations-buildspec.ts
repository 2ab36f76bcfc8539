import * as codebuild from 'aws-cdk-lib/aws-codebuild';

/** The AWS CDK CLI a customization's CDK app is deployed with when it brings none of its own. */
export const DEFAULT_CDK_CLI_VERSION = '2.1148.1';

/**
 * What one build of the shared customizations project does, for one account and
 * one folder of the customizations source (the pipeline action sets ACCOUNT_ID,
 * CUSTOMIZATIONS_SCOPE and CUSTOMIZATIONS_PATH):
 *
 * 1. No folder: nothing to do for `global/`; an error for `accounts/<name>/`
 *    (the request names customizations that do not exist).
 * 2. Assume `arn:<partition>:iam::<ACCOUNT_ID>:role/<EXECUTION_ROLE_NAME>`.
 * 3. A CDK app (`cdk.json`): install its dependencies, bootstrap the account and
 *    region (a no-op once done), `cdk deploy --all --require-approval never`
 *    with the account ID and region as context (`ACCOUNT_ID`, `region`) and in
 *    CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
 * 4. Otherwise `run.sh` (bash, in the folder), with the same variables.
 *
 * The local engine emulates these same rules (local/engine/customizations.ts).
 */
export const CUSTOMIZATIONS_SCRIPT = `set -euo pipefail
test -n "\${ACCOUNT_ID:-}" || { echo "ACCOUNT_ID is not set"; exit 1; }
CUSTOMIZATIONS_PATH="\${CUSTOMIZATIONS_PATH:-global}"
DIR="$CODEBUILD_SRC_DIR/\${CUSTOMIZATIONS_PATH}"
if [ ! -d "$DIR" ]; then
  if [ "\${CUSTOMIZATIONS_SCOPE:-global}" = "account" ]; then
    echo "The customizations source has no \${CUSTOMIZATIONS_PATH}/ folder, which the account request names"
    exit 1
  fi
  echo "No \${CUSTOMIZATIONS_PATH}/ folder: nothing to run"
else
  ROLE_ARN="arn:\${AWS_PARTITION}:iam::\${ACCOUNT_ID}:role/\${EXECUTION_ROLE_NAME}"
  CREDS=$(aws sts assume-role --role-arn "$ROLE_ARN" --role-session-name "customizations-\${ACCOUNT_ID}" --query Credentials --output json)
  export AWS_ACCESS_KEY_ID=$(echo "$CREDS" | jq -r .AccessKeyId)
  export AWS_SECRET_ACCESS_KEY=$(echo "$CREDS" | jq -r .SecretAccessKey)
  export AWS_SESSION_TOKEN=$(echo "$CREDS" | jq -r .SessionToken)
  export CDK_DEFAULT_ACCOUNT="$ACCOUNT_ID" CDK_DEFAULT_REGION="$AWS_REGION"
  cd "$DIR"
  if [ -f cdk.json ]; then
    if [ -f package-lock.json ]; then npm ci; elif [ -f package.json ]; then npm install; fi
    CDK="npx --yes aws-cdk@\${CDK_CLI_VERSION}"
    if [ -x node_modules/.bin/cdk ]; then CDK="node_modules/.bin/cdk"; fi
    $CDK bootstrap "aws://\${ACCOUNT_ID}/\${AWS_REGION}"
    $CDK deploy --all --require-approval never --context "ACCOUNT_ID=\${ACCOUNT_ID}" --context "region=\${AWS_REGION}"
  elif [ -f run.sh ]; then
    bash ./run.sh
  else
    echo "\${CUSTOMIZATIONS_PATH}/ holds neither cdk.json (a CDK app) nor run.sh"
    exit 1
  fi
fi`;

export function customizationsBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: { 'runtime-versions': { nodejs: '20' } },
      build: { commands: [CUSTOMIZATIONS_SCRIPT] },
    },
  });
}
