"""Every permission the roles page offers has code that reads it (issue 18, item 3).

A switch on the roles page that no check ever looks at lies to the admin. The permission
list (gallery.roles.PERMISSIONS) is what the page offers; this test parses the product's
code and finds, for each permission, a permission check that passes it as a literal
(`can(viewer, "synchronize", album)`, `viewable_media(..., "edit_media")`,
`"administer_gallery" in role["permissions"]`). A new permission added to the list
without a check, or a check removed, fails here until the page stops offering it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gallery.people.roles import PERMISSIONS
from handlers.admin_roles import PERMISSION_HELP, PERMISSION_LABELS
from tests.client import text

ROOT = Path(__file__).resolve().parents[3]
PRODUCT = ("gallery", "handlers", "tenants", "server", "media", "storage")
# Where the permissions are only listed or labelled: a mention there is not a check.
LISTS = {Path("gallery/roles.py"), Path("handlers/admin_roles.py")}
# The functions that decide on a permission given as one of their arguments.
CHECKS = {"can", "require", "viewable_album", "viewable_media", "albums_with"}


def readers_in(source: str) -> set[str]:
    """The permission names `source` checks: a literal passed to a check, or `"p" in perms`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in CHECKS:
                args = list(node.args) + [k.value for k in node.keywords]
                found.update(
                    a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
            and any(isinstance(op, ast.In) for op in node.ops)
        ):
            found.add(node.left.value)
    return found & set(PERMISSIONS)


def product_readers() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {p: [] for p in PERMISSIONS}
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative in LISTS:
                continue
            for permission in readers_in(path.read_text()):
                where[permission].append(str(relative))
    return where


def test_the_scanner_tells_a_check_from_a_mention():
    listed_only = 'OFFERED = ("synchronize", "hide_watermark")\nLABEL = {"synchronize": "Sync"}\n'
    assert readers_in(listed_only) == set()
    checked = (
        'if can(viewer, "synchronize", album): pass\n'
        'await viewable_media(ctx, v, i, permission="hide_watermark")\n'
        'ok = "administer_gallery" in role["permissions"]\n'
    )
    assert readers_in(checked) == {"synchronize", "hide_watermark", "administer_gallery"}


def test_every_offered_permission_is_read_by_some_check():
    where = product_readers()
    unread = [p for p, files in where.items() if not files]
    assert not unread, f"the roles page offers switches no code reads: {unread}"
    # The two that once did nothing, now read by their features.
    assert "gallery/intake/sync.py" in where["synchronize"] and "handlers/api_sync.py" in where["synchronize"]
    assert "gallery/processing/watermarks.py" in where["hide_watermark"]


def test_every_permission_is_labelled_in_words():
    assert set(PERMISSION_LABELS) == set(PERMISSIONS) == set(PERMISSION_HELP)
    assert all(" " in PERMISSION_LABELS[p] for p in PERMISSIONS), "words, not raw keys"


async def test_the_roles_page_offers_exactly_the_read_permissions(app, make_gallery):
    gallery = await make_gallery("alpha")
    p, ctx = gallery["prefix"], gallery["ctx"]
    admin = app.browser()
    assert (await admin.login(p, "admin", gallery["password"])).code == 302
    page = text(await admin.get(p + "/admin/roles"))
    offered = re.findall(r'name="permissions" value="([^"]+)"', page)
    read = {perm for perm, files in product_readers().items() if files}
    assert set(offered) == read and len(offered) == len(set(offered))
    for perm in offered:
        # Each offered permission is named and explained in one line (issue 18, item 2).
        assert f"<strong>{PERMISSION_LABELS[perm]}</strong><span class=\"hint\">{PERMISSION_HELP[perm]}</span>" \
            in page.replace("&#39;", "'"), perm

    # A permission the page does not offer cannot be smuggled into a role by a forged form.
    made = await admin.post_form(
        p + "/admin/roles",
        {"name": "Forged", "permissions": ["view", "delete_everything"], "album_ids": []},
    )
    assert made.code in (302, 400)
    role = await ctx.db.roles.find_one({"name": "Forged"})
    assert role is None or role["permissions"] == ["view"]
