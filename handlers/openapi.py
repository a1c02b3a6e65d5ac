"""The OpenAPI 3 description of /api/v1, built from the `OPENAPI` dict that every API
module declares next to its ROUTES (so a new module describes itself where it is written)."""

from __future__ import annotations

from handlers.api_base import ApiHandler, operation
from handlers.health import VERSION


def api_modules() -> list:
    import handlers

    return [
        m for m in handlers.ROUTE_MODULES_TENANT if isinstance(getattr(m, "OPENAPI", None), dict)
    ]


def build_document(server_url: str = "") -> dict:
    paths: dict = {}
    for module in api_modules():
        for path, operations in module.OPENAPI.items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Atrium gallery API",
            "version": VERSION,
            "description": "Every write needs the `_xsrf` cookie's value in an X-XSRFToken header. "
            'Errors are {"error": {"code", "message", "fields"?}}.',
        },
        "servers": [{"url": server_url or "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "responses": {
                "Error": {
                    "description": "An error",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        }
                    },
                }
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "atrium_session"}
            },
        },
        "security": [{"session": []}, {}],
    }


class OpenApiHandler(ApiHandler):
    async def get(self) -> None:
        self.write_json(build_document(self.urls.absolute("/").rstrip("/")))


ROUTES = [(r"/api/v1/openapi\.json", OpenApiHandler)]

OPENAPI = {
    "/api/v1/openapi.json": {
        "get": operation(
            "This document",
            tag="meta",
            responses={
                "200": {
                    "description": "OpenAPI 3 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        )
    },
}
