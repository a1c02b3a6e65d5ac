"""HTTP handlers: one module per area, each ending in a ROUTES list.

The order here is the order routes are tried in (server.app joins them).
"""

from handlers import admin_settings, auth, health, home, host, install
from handlers import api_albums, api_jobs, api_media, media_files, openapi
from handlers import api_order, api_search, downloads
from handlers import pages, pages_media, tus, uploads

ROUTE_MODULES_HOST = [health, host]
ROUTE_MODULES_TENANT = [health, home, auth, install, admin_settings]
# api_search and api_order before api_media: /api/v1/media/(recent|bulk) before /media/<id>.
ROUTE_MODULES_TENANT += [media_files, api_albums, api_search, api_order, api_media, api_jobs]
ROUTE_MODULES_TENANT += [openapi, downloads]
ROUTE_MODULES_TENANT += [uploads, tus, pages, pages_media]
from handlers import account, admin_email, admin_events, admin_roles, admin_users  # noqa: E402

ROUTE_MODULES_TENANT += [account, admin_users, admin_roles, admin_events, admin_email]
from handlers import upload_page  # noqa: E402

ROUTE_MODULES_TENANT += [upload_page]

from handlers import api_accounts  # noqa: E402

ROUTE_MODULES_TENANT += [api_accounts]

from handlers import api_media_file  # noqa: E402

ROUTE_MODULES_TENANT += [api_media_file]
