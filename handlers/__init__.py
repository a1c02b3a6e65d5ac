"""HTTP handlers: one module per area, each ending in a ROUTES list.

The order here is the order routes are tried in (server.app joins them).
"""

from handlers import (
    account,
    admin_backup,
    admin_email,
    admin_events,
    admin_queue,
    admin_gsp_import,
    admin_roles,
    admin_settings,
    admin_sync,
    admin_users,
    admin_watermark,
    album_tree,
    api_accounts,
    api_albums,
    api_jobs,
    api_media,
    api_media_file,
    api_ratings,
    api_order,
    api_search,
    api_sync,
    auth,
    custom_css,
    downloads,
    feeds,
    gsp_uploads,
    health,
    home,
    host,
    host_backup,
    install,
    media_files,
    openapi,
    pages,
    pages_media,
    shares,
    timeline,
    trash,
    tus,
    upload_page,
    upgrading,
    uploads,
)

ROUTE_MODULES_HOST = [health, host, host_backup]
ROUTE_MODULES_TENANT = [health, home, auth, install, admin_settings]
# api_search and api_order before api_media: /api/v1/media/(recent|bulk) before /media/<id>.
ROUTE_MODULES_TENANT += [media_files, api_albums, api_search, api_order, api_media, api_jobs]
ROUTE_MODULES_TENANT += [openapi, downloads]
ROUTE_MODULES_TENANT += [uploads, tus, pages, pages_media]
ROUTE_MODULES_TENANT += [account, admin_users, admin_roles, admin_events, admin_email]
ROUTE_MODULES_TENANT += [upload_page, api_accounts, api_media_file, admin_backup, api_sync]
ROUTE_MODULES_TENANT += [admin_sync, admin_queue]
ROUTE_MODULES_TENANT += [admin_watermark]
ROUTE_MODULES_TENANT += [admin_gsp_import, gsp_uploads]
ROUTE_MODULES_TENANT += [custom_css]
ROUTE_MODULES_TENANT += [shares, feeds]
ROUTE_MODULES_TENANT += [trash]
ROUTE_MODULES_TENANT += [timeline, album_tree]
ROUTE_MODULES_TENANT += [upgrading]
ROUTE_MODULES_TENANT += [api_ratings]
