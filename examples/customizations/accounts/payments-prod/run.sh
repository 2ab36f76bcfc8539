#!/usr/bin/env bash
# Customizations of the payments production account: EBS encryption by default,
# and a 365-day retention on every log group that has none.
set -euo pipefail
echo "payments-prod customizations for ${ACCOUNT_ID} in ${AWS_REGION}"
aws ec2 enable-ebs-encryption-by-default --region "$AWS_REGION"
for group in $(aws logs describe-log-groups --query 'logGroups[?retentionInDays==`null`].logGroupName' --output text); do
  aws logs put-retention-policy --log-group-name "$group" --retention-in-days 365
done
