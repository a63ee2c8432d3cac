"""Which database the admin's heavy, lag-tolerant reads go to.

With `DATABASE_REPLICA_URL` set (a streaming replica of the primary), member search, the
exports, the dashboard's figures and the referrals list read from it, so a merchant's
export of a million members never competes with crediting for the primary. Everything
else reads the primary: the storefront, every write and the reads inside it, and what a
merchant looks at right after changing it (a member's page after an adjustment), which a
replica a second behind would show stale.

Rows read from the replica are for showing only: saving one would write through the
replica's connection (Django saves to the database an instance came from).
"""

from django.conf import settings

REPLICA = "replica"


def admin_reads() -> str:
    """The database alias for the admin's lag-tolerant reads: the replica when configured."""
    return REPLICA if REPLICA in settings.DATABASES else "default"
