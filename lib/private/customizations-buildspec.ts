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
 * 2. Act as `arn:<partition>:iam::<ACCOUNT_ID>:role/<EXECUTION_ROLE_NAME>` through an AWS
 *    config profile (`role_arn` with `credential_source = EcsContainer`, CodeBuild's own
 *    credentials), not exported keys: the SDKs, the AWS CLI and the CDK CLI assume the role
 *    themselves and assume it again before the credentials expire, so a build longer than an
 *    hour keeps working. A session reached by role chaining lasts one hour at most
 *    ("Role chaining limits your AWS CLI or AWS API role session to a maximum of one hour",
 *    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html);
 *    `credential_source` "EcsContainer" is how a profile takes the container's credentials
 *    as the source for assuming the role
 *    (https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html).
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
  export AWS_CONFIG_FILE="$(mktemp)"
  printf '[profile customizations]\\nrole_arn = %s\\nrole_session_name = %s\\ncredential_source = EcsContainer\\n' \\
    "$ROLE_ARN" "customizations-\${ACCOUNT_ID}" > "$AWS_CONFIG_FILE"
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  export AWS_PROFILE=customizations AWS_SDK_LOAD_CONFIG=1
  aws sts get-caller-identity --output text --query Arn
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
