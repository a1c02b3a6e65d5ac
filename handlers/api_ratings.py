"""Members' star ratings of a media object: read the average and one's own vote, vote 1–5
stars (again to change it), withdraw it (gallery/library/ratings.py)."""

from __future__ import annotations

from gallery.library import ratings
from gallery.library.media import viewable_media
from handlers.api_base import ApiHandler, operation


class MediaRatingHandler(ApiHandler):
    async def get(self, media_id: str) -> None:
        viewer = await self.viewer()
        media = await viewable_media(self.tenant, viewer, media_id)
        mine = await ratings.my_vote(self.tenant, viewer, media["_id"])
        self.set_header("Cache-Control", "private, no-store")  # one's own vote
        self.write_json({"rating": ratings.summary(media, mine)})

    async def put(self, media_id: str) -> None:
        stars = self.json_body().get("stars")
        result = await ratings.vote(self.tenant, await self.viewer(), media_id, stars)
        self.write_json({"rating": result})

    post = put

    async def delete(self, media_id: str) -> None:
        result = await ratings.withdraw(self.tenant, await self.viewer(), media_id)
        self.write_json({"rating": result})


ROUTES = [(r"/api/v1/media/([0-9a-f]{24})/rating", MediaRatingHandler)]

_BODY = {
    "type": "object",
    "required": ["stars"],
    "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}},
}
_P = ("media_id",)
OPENAPI = {
    "/api/v1/media/{media_id}/rating": {
        "get": operation("The media's rating: average, count, the file's own, the viewer's vote",
                         params=_P, tag="media"),
        "put": operation("Vote 1 to 5 stars (members; a second vote replaces the first)",
                         params=_P, body=_BODY, tag="media", also=("401",)),
        "post": operation("Vote 1 to 5 stars (as PUT)", params=_P, body=_BODY, tag="media",
                          also=("401",)),
        "delete": operation("Withdraw the viewer's vote", params=_P, tag="media", also=("401",)),
    }
}
