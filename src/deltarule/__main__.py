"""``python -m deltarule`` runs the command line.

Ctrl-C while it starts (Python imports the package, then :mod:`deltarule.cli`) ends it with
one line ``error: interrupted`` and exit status 130, no traceback, as it does once
:func:`deltarule.cli.main` runs.
"""

import sys


def _interrupted() -> int:
    sys.stderr.write("error: interrupted\n")
    return 130  # (128 + SIGINT, as a shell reports a command Ctrl-C stopped)


try:
    from .cli import console
except KeyboardInterrupt:  # Ctrl-C while the command line loads: one line, no traceback
    sys.exit(_interrupted())

if __name__ == "__main__":
    try:
        console()  # (ends the process)
    except KeyboardInterrupt:  # (between the import and main's own handling)
        sys.exit(_interrupted())
