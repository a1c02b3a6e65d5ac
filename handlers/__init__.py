"""HTTP handlers: one module per area, each ending in a ROUTES list.

The order here is the order routes are tried in (server.app joins them).
"""

from handlers import admin_settings, auth, health, home, host, install

ROUTE_MODULES_HOST = [health, host]
ROUTE_MODULES_TENANT = [health, home, auth, install, admin_settings]
