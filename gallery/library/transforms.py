"""Rotations and flips of a media object, stored as one transform.

A transform is {"rotate": clockwise degrees, "mirror": bool}: rotate, then mirror
horizontally. Edits combine into it (so rotating four times is a no-op) and the image
pipeline receives it as make_image_derivatives arguments.
"""

from __future__ import annotations

from gallery.errors import Invalid


def combine_transform(current: dict | None, rotate: int = 0, flip: str | None = None) -> dict:
    """Add a clockwise rotation and/or a flip to a stored transform.

    A transform is "rotate clockwise, then mirror horizontally if `mirror`"; a vertical
    flip is a horizontal one plus half a turn; a rotation after a mirror turns the other way.
    """
    r = int((current or {}).get("rotate", 0)) % 360
    mirror = bool((current or {}).get("mirror", False))
    if rotate % 90:
        raise Invalid(
            "Rotation must be a multiple of 90 degrees.",
            field_errors={"rotate": "must be 0, 90, 180 or 270"},
        )
    r = (r - rotate) % 360 if mirror else (r + rotate) % 360
    if flip == "horizontal":
        mirror = not mirror
    elif flip == "vertical":
        mirror = not mirror
        r = (r + 180) % 360
    elif flip is not None:
        raise Invalid(
            "Flip must be horizontal or vertical.",
            field_errors={"flip": "must be horizontal or vertical"},
        )
    return {"rotate": r, "mirror": mirror}


def transform_arguments(transform: dict | None) -> dict:
    """make_image_derivatives keyword arguments for a stored transform."""
    transform = transform or {}
    return {
        "rotate": int(transform.get("rotate", 0)) % 360,
        "flip": "horizontal" if transform.get("mirror") else None,
    }
