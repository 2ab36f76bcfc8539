#!/usr/bin/env bash
# Customizations of the security accounts: IAM Access Analyzer for the account.
set -euo pipefail
echo "security-baseline customizations for ${ACCOUNT_ID} in ${AWS_REGION}"
name="account-analyzer"
if ! aws accessanalyzer get-analyzer --analyzer-name "$name" >/dev/null 2>&1; then
  aws accessanalyzer create-analyzer --analyzer-name "$name" --type ACCOUNT
fi
