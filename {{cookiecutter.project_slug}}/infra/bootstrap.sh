#!/usr/bin/env bash
# `make bootstrap`: create or update the AWS side (infra/stack.yml), in a way a first run survives.
#
# - Checks the AWS CLI and that the credentials are for the account config.py names.
# - A stack whose first create failed (ROLLBACK_COMPLETE) cannot be updated: it says why it
#   failed, deletes the empty stack and creates it again (its fixed-name buckets and log groups
#   are RetainExceptOnCreate, so nothing of that attempt is left to collide with).
# - Finds GitHub's OIDC provider when the account already has one (an account holds one per URL)
#   and reuses it, unless this stack created it; GITHUB_OIDC_PROVIDER_ARN overrides.
# - Gives the roles the OIDC subject form this repository's tokens carry (infra/github_ids.py:
#   GITHUB_OWNER_ID and GITHUB_REPO_ID, or asked of GitHub with gh), before anything changes.
# - Ends with the gh commands that set up the GitHub side.
# Exit codes as the command line's: 8 something is missing, 9 AWS refused the credentials.
set -euo pipefail

: "${STACK_NAME:?}" "${AWS_ACCOUNT_ID:?}" "${AWS_REGION:?}" "${PROJECT:?}"
: "${GITHUB_OWNER:?}" "${GITHUB_REPO:?}"
provider="${GITHUB_OIDC_PROVIDER_ARN:-}"
repo="$GITHUB_OWNER/$GITHUB_REPO"

fail() {
  local code=$1
  shift
  echo "error: $*" >&2
  exit "$code"
}

in_region() { aws --region "$AWS_REGION" "$@"; }

command -v aws >/dev/null ||
  fail 8 "the AWS CLI v2 is needed (aws on PATH): https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
account=$(in_region sts get-caller-identity --query Account --output text) ||
  fail 9 "no usable AWS credentials: sign in (aws sso login, or aws configure), then run make bootstrap again"
[[ $account == "$AWS_ACCOUNT_ID" ]] ||
  fail 9 "the credentials are for account $account, config.py names $AWS_ACCOUNT_ID: switch profile (AWS_PROFILE=...)"
# GitHubOwnerId=... GitHubRepoId=... (empty for a repository whose tokens carry names only);
# github_ids.py prints its own one-line error.
subject_ids=$(python3 infra/github_ids.py "$GITHUB_OWNER" "$GITHUB_REPO" \
  "${GITHUB_OWNER_ID:-}" "${GITHUB_REPO_ID:-}") || exit 2
read -r -a subject_parameters <<<"$subject_ids"

status=$(in_region cloudformation describe-stacks --stack-name "$STACK_NAME" \
  --query 'Stacks[0].StackStatus' --output text 2>/dev/null) || status=NONE
if [[ $status == ROLLBACK_COMPLETE ]]; then
  # Events are newest first: the last CREATE_FAILED is the first thing that went wrong.
  reason=$(in_region cloudformation describe-stack-events --stack-name "$STACK_NAME" \
    --query "StackEvents[?ResourceStatus=='CREATE_FAILED'] | [-1].[LogicalResourceId, ResourceStatusReason]" \
    --output text)
  echo "The first create of $STACK_NAME failed and was rolled back: $reason"
  echo "Deleting the empty stack so that it can be created again."
  in_region cloudformation delete-stack --stack-name "$STACK_NAME"
  in_region cloudformation wait stack-delete-complete --stack-name "$STACK_NAME"
  status=NONE
fi

if [[ -z $provider ]]; then
  found=$(in_region iam list-open-id-connect-providers --output text \
    --query "OpenIDConnectProviderList[?ends_with(Arn, '/token.actions.githubusercontent.com')].Arn | [0]")
  ours=None
  if [[ $status != NONE ]]; then
    ours=$(in_region cloudformation describe-stack-resources --stack-name "$STACK_NAME" \
      --logical-resource-id GitHubOidcProvider --output text \
      --query 'StackResources[0].PhysicalResourceId' 2>/dev/null) || ours=None
  fi
  if [[ $found != None && $found != "$ours" ]]; then
    provider=$found
    echo "GitHub's OIDC provider already exists in the account: reusing $provider"
  fi
fi

parameters=(ProjectName="$PROJECT" GitHubOwner="$GITHUB_OWNER" GitHubRepo="$GITHUB_REPO"
  "${subject_parameters[@]}")
if [[ -n $provider ]]; then
  parameters+=(ExistingGitHubOidcProviderArn="$provider")
fi
echo "Deploying $STACK_NAME in $AWS_REGION (a first create takes about 5 minutes)..."
in_region cloudformation deploy --stack-name "$STACK_NAME" --template-file infra/stack.yml \
  --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
  --tags project="$PROJECT" --parameter-overrides "${parameters[@]}" ||
  fail 1 "the stack did not deploy: README.md, Troubleshooting, says where to look; then run make bootstrap again"

output() {
  in_region cloudformation describe-stacks --stack-name "$STACK_NAME" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]"
}
retrain=$(output GitHubRetrainRoleArn)
staging=$(output GitHubDeployRoleArnStaging)
prod=$(output GitHubDeployRoleArnProd)
echo
echo "Stack $STACK_NAME is ready. Now the GitHub side, with the GitHub CLI (gh auth login first):"
echo
echo "  gh variable set AWS_RETRAIN_ROLE_ARN --repo $repo --body $retrain"
echo "  make github-environments   # staging and prod, their branch policies, prod's reviewer: you"
echo "  gh variable set AWS_DEPLOY_ROLE_ARN --repo $repo --env staging --body $staging"
echo "  gh variable set AWS_DEPLOY_ROLE_ARN --repo $repo --env prod --body $prod"
echo
echo "Every deploy to prod then waits for your review (README.md, Set up AWS)."
