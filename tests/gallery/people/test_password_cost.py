"""The cost of password hashes: the host's setting, RFC 9106's by default, OWASP's floor in
production, and stored hashes of another cost remade at their owner's next sign-in.

(The rest of the suite runs at the cheapest cost the service accepts: tests/conftest.py.)"""

from __future__ import annotations

import re

import pytest

from gallery.people import passwords
from server.config import ConfigError, load_config
from tenants import host_admins


def cost_of(password_hash: str) -> tuple[int, int, int]:
    m, t, p = re.search(r"\$m=(\d+),t=(\d+),p=(\d+)\$", password_hash).groups()
    return int(m), int(t), int(p)


@pytest.fixture
def default_cost():
    """RFC 9106's option for this test; the suite's cheap cost again after it."""
    before = passwords._HASHER
    defaults = load_config(None, env={})
    passwords.configure(defaults.security.password_memory_kb, defaults.security.password_rounds,
                        defaults.security.password_parallelism)
    yield
    passwords._HASHER = before


async def test_the_default_cost_is_rfc_9106s_second_option(default_cost):
    stored = await passwords.hash_password("Correct-Horse-Battery-9")
    assert cost_of(stored) == (65536, 3, 4)
    assert await passwords.verify_password("Correct-Horse-Battery-9", stored)
    assert not await passwords.verify_password("correct-horse-battery-9", stored)
    assert not await passwords.verify_password("anything", None)  # an unknown account


def test_production_refuses_less_than_owasps_minimum():
    base = {"server.mode": "production", "security.host_secret": "s" * 40}
    with pytest.raises(ConfigError, match="password_memory_kb x security.password_rounds"):
        load_config(None, env={}, overrides={**base, "security.password_memory_kb": 19456,
                                             "security.password_rounds": 1})
    assert load_config(None, env={}, overrides={**base, "security.password_memory_kb": 19456,
                                                "security.password_rounds": 2})
    assert load_config(None, env={}, overrides=base).security.password_memory_kb == 65536
    # Development accepts the cheap cost (the suite's), but not nonsense.
    assert load_config(None, env={}, overrides={"security.password_memory_kb": 1024})
    with pytest.raises(ConfigError, match="at least 1024"):
        load_config(None, env={}, overrides={"security.password_memory_kb": 512})
    with pytest.raises(ConfigError, match="at most 16"):
        load_config(None, env={}, overrides={"security.password_parallelism": 17})
    with pytest.raises(ConfigError, match="password_rounds"):
        load_config(None, env={"ATRIUM_SECURITY_PASSWORD_ROUNDS": "three"})


async def test_a_hash_of_another_cost_is_remade_at_sign_in_and_still_opens(app, make_gallery):
    gallery = await make_gallery("alpha")
    users = gallery["ctx"].db.users
    admin = await users.find_one({"username": "admin"})
    assert cost_of(admin["password_hash"]) == (1024, 1, 1)  # the suite's cost
    # Made when the host had another cost (e.g. before raising it).
    passwords.configure(2048, 2, 1)
    try:
        old = await passwords.hash_password(gallery["password"])
    finally:
        passwords.configure(1024, 1, 1)
    await users.update_one({"_id": admin["_id"]}, {"$set": {"password_hash": old}})

    wrong = await app.browser().login(gallery["prefix"], "admin", "Wrong-Horse-Battery-9")
    assert wrong.code == 401
    assert (await users.find_one({"_id": admin["_id"]}))["password_hash"] == old  # only a right one

    browser = app.browser()
    assert (await browser.login(gallery["prefix"], "admin", gallery["password"])).code == 302
    remade = (await users.find_one({"_id": admin["_id"]}))["password_hash"]
    assert remade != old and cost_of(remade) == (1024, 1, 1)
    assert (await app.browser().login(gallery["prefix"], "admin", gallery["password"])).code == 302


async def test_a_password_changed_meanwhile_is_not_overwritten_by_the_remade_hash(services):
    host_db = services.registry.host_db
    await host_admins.create_admin(host_db, "provider", "Correct-Horse-Battery-9")
    passwords.configure(2048, 2, 1)
    try:
        old = await passwords.hash_password("Correct-Horse-Battery-9")
    finally:
        passwords.configure(1024, 1, 1)
    changed = await passwords.hash_password("Another-Horse-Battery-7")
    doc = await host_db.host_admins.find_one({})
    await host_db.host_admins.update_one({"_id": doc["_id"]}, {"$set": {"password_hash": changed}})
    # A sign-in that checked the old hash stores its remade one only over that same hash.
    await passwords.refresh_stored_hash(host_db.host_admins, doc["_id"], "Correct-Horse-Battery-9", old)
    assert (await host_db.host_admins.find_one({}))["password_hash"] == changed

    # The host console's sign-in remakes a hash of another cost too.
    await host_db.host_admins.update_one({"_id": doc["_id"]}, {"$set": {"password_hash": old}})
    assert await host_admins.sign_in(host_db, "provider", "Correct-Horse-Battery-9", "192.0.2.1")
    assert cost_of((await host_db.host_admins.find_one({}))["password_hash"]) == (1024, 1, 1)
