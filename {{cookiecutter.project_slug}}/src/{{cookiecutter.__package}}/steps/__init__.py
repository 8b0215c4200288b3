"""The code SageMaker runs in its scikit-learn containers, and `run-local` runs as local processes.

Each module here is copied into a container as a single file and run as a script, so it imports
only the standard library, numpy, pandas, scikit-learn and joblib (matplotlib when present), and
never this package: everything configurable arrives as a command-line argument.
"""
