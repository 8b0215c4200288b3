"""The IAM check: every AWS request a bake's code makes, attributed and evaluated.

recording/  records each request while the baked suite and story run (sitecustomize.py)
records     reads what was recorded
identities  which stack role runs which command, from the workflows, buildspecs and stack
permissions what IAM authorizes each operation as (the Service Authorization Reference)
rules       what no evaluator knows, each rule with the AWS page that says it
evaluation  the stack's policies, evaluated by principalmapper for each request
"""
