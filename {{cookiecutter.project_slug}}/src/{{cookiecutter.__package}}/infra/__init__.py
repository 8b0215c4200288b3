"""The AWS side as a whole: `doctor` checks that it is set up and wired, `teardown` removes it.

`stack` says what infra/stack.yml creates as the code expects to find it; plain boto3, reads
only in `doctor`.
"""
