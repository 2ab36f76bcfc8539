#!/usr/bin/env bash
# Customizations of the payments accounts (dev, staging): EBS encryption by default.
set -euo pipefail
echo "payments customizations for ${ACCOUNT_ID} in ${AWS_REGION}"
aws ec2 enable-ebs-encryption-by-default --region "$AWS_REGION"
