"""The frozen build's entry point: the same `main` as the `booth-app` command of an installed package."""

import sys

from booth_app.cli import main

if __name__ == "__main__":
    sys.exit(main())
