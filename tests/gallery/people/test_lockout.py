"""gallery.people.lockout counters on the real embedded database: windows and locks that run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gallery.people import lockout

LIMITS = lockout.Limits(
    attempts=3, window=timedelta(minutes=15), lock=timedelta(minutes=1), address_attempts=100
)


async def _fail(db, key: str) -> None:
    attempt = await lockout.begin_attempt(db, key, "192.0.2.7", LIMITS)
    await attempt.failed()


async def test_a_lock_shorter_than_the_window_ends_on_time(services):
    db = services.host_db
    for _ in range(3):
        await _fail(db, "name:mallory")
    with pytest.raises(lockout.AccountLocked):
        await lockout.begin_attempt(db, "name:mallory", "192.0.2.7", LIMITS)
    # The minute of the lock passes (the window of 15 has not).
    await db.login_attempts.update_one(
        {"_id": "name:mallory"},
        {"$set": {"locked_until": datetime.now(UTC) - timedelta(seconds=1)}},
    )
    attempt = await lockout.begin_attempt(db, "name:mallory", "192.0.2.7", LIMITS)
    assert attempt.count == 1


async def test_a_window_that_ended_starts_the_count_again(services):
    db = services.host_db
    for _ in range(2):
        await _fail(db, "name:trudy")
    await db.login_attempts.update_one(
        {"_id": "name:trudy"}, {"$set": {"since": datetime.now(UTC) - timedelta(minutes=16)}}
    )
    attempt = await lockout.begin_attempt(db, "name:trudy", "192.0.2.7", LIMITS)
    assert attempt.count == 1 and await attempt.failed() is None


async def test_guessed_names_do_not_pile_up(services):
    db = services.host_db
    for name in ("old1", "old2", "recent"):
        await _fail(db, f"name:{name}")
    await db.login_attempts.update_many(
        {"_id": {"$in": ["name:old1", "name:old2"]}},
        {"$set": {"since": datetime.now(UTC) - timedelta(days=3)}},
    )
    await _fail(db, "name:newcomer")
    left = {d["_id"] for d in await db.login_attempts.find({}, {"_id": 1}).to_list()}
    assert left == {"name:recent", "name:newcomer", "address:192.0.2.7"}


def test_ipv6_clients_are_counted_per_64():
    one = lockout.address_key("2001:db8:1:2::1")
    assert (
        one
        == lockout.address_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
        == "address:2001:db8:1:2::/64"
    )
    assert one != lockout.address_key("2001:db8:1:3::1")
    assert lockout.address_key("::ffff:192.0.2.7") == lockout.address_key("192.0.2.7")
    assert lockout.address_key("") == "address:-"


async def test_rotating_ipv6_addresses_share_one_throttle(services):
    db = services.host_db
    limits = lockout.Limits(attempts=100, address_attempts=3)
    for i in range(3):
        await lockout.begin_attempt(db, f"name:guess{i}", f"2001:db8:9:9::{i + 1:x}", limits)
    with pytest.raises(lockout.AddressThrottled):
        await lockout.begin_attempt(db, "name:guess9", "2001:db8:9:9::abcd", limits)
