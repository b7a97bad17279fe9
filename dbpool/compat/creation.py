"""The test-database hooks, the same in every era (1.3 to 6.1)."""
from __future__ import absolute_import, division, print_function

from dbpool.db.targets import close_pools_for_database


class CreationHooks(object):
    """Close pooled connections that would block DROP or CREATE ... TEMPLATE.

    Mixed in front of the wrapper's own creation class (see PoolingMixin).
    """

    def _destroy_test_db(self, test_database_name, verbosity):
        # The signature is stable from 1.3 to 6.1.
        close_pools_for_database(test_database_name)
        return super(CreationHooks, self)._destroy_test_db(test_database_name, verbosity)

    def _clone_test_db(self, *args, **kwargs):
        # 1.9+ (--parallel). The parameter after the first was 'number' in
        # 1.9-1.11 and 'suffix' from 2.0, hence *args.
        close_pools_for_database(self.connection.settings_dict['NAME'])
        return super(CreationHooks, self)._clone_test_db(*args, **kwargs)
