#!/usr/bin/env bash
# Customizations of the analytics accounts: a plain script, run with the
# account's execution role credentials (ACCOUNT_ID and AWS_REGION are set).
set -euo pipefail
echo "analytics customizations for ${ACCOUNT_ID} in ${AWS_REGION}"
# Athena query results expire after 30 days.
bucket="athena-results-${ACCOUNT_ID}-${AWS_REGION}"
if ! aws s3api head-bucket --bucket "$bucket" 2>/dev/null; then
  if [ "$AWS_REGION" = "us-east-1" ]; then
    aws s3api create-bucket --bucket "$bucket"
  else
    aws s3api create-bucket --bucket "$bucket" --create-bucket-configuration "LocationConstraint=${AWS_REGION}"
  fi
fi
aws s3api put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration \
  '{"Rules":[{"ID":"expire-results","Status":"Enabled","Filter":{},"Expiration":{"Days":30}}]}'
