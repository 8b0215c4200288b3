"""Development tooling: the local AWS emulator and the offline story. Never used against AWS.

It needs the `dev` dependency group (moto, PyYAML), which a runtime-only install lacks; the
command line says so in one line instead of a traceback.
"""
