"""``python -m deltarule`` runs the command line."""

import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line loads: one line, no traceback
    sys.stderr.write("error: interrupted\n")
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
