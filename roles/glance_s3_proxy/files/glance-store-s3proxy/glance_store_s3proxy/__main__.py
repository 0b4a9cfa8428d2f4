"""``python -m glance_store_s3proxy --status [--json]``."""

import sys

from glance_store_s3proxy import status


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ('--status', 'status'):
        print('usage: python -m glance_store_s3proxy --status [--json]', file=sys.stderr)
        return 2
    return status.main(argv[1:])


if __name__ == '__main__':
    sys.exit(main())
