#!/usr/bin/env python
"""Django's command-line utility for administrative tasks (see README: Running manage.py)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lego_api.settings")
    from django.core.management import execute_from_command_line
    from django.db import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except OperationalError:
        # A database that is not running is a one-line message naming the fix, not a driver traceback.
        from lego_api.local_database import database_unreachable_message

        problem = database_unreachable_message()
        if problem is None:
            raise
        sys.exit(f"Error: {problem}")


if __name__ == "__main__":
    main()
