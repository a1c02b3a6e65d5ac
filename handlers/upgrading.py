"""GET /_upgrade: a gallery's upgrade progress as JSON, for the page shown while it is being
upgraded (templates/errors/upgrading.html polls it).

It answers the gate's state and counts only (tenants.upgrade.progress_of): nothing of the
gallery's contents, names or errors, so it needs no sign-in. Polling it is also a touch:
a gallery whose migrating process died is taken over here as by any request.
"""

from __future__ import annotations

from handlers.base import TenantHandler
from tenants.upgrade import Upgrading


class UpgradeProgressHandler(TenantHandler):
    progress: dict | None = None

    @property
    def is_api(self) -> bool:
        return True  # errors (an unknown or suspended gallery) as JSON

    async def prepare(self) -> None:
        try:
            await super().prepare()
        except Upgrading as exc:
            # Being upgraded: its counts. Refused or failed: only the state (the page says why).
            self.progress = exc.progress or {"state": exc.code}
            return
        self.progress = {"state": "read_only" if self.read_only_notice else "current"}

    def get(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.write_json(self.progress)


ROUTES = [(r"/_upgrade", UpgradeProgressHandler)]
