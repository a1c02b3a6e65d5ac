"""Secrets at rest: AES-GCM ("enc2:") for new values; old "enc1:" values still open and are
re-encrypted the next time settings are saved."""

from __future__ import annotations

from gallery.notices.mail import smtp_options
from gallery.settings import get_settings, update_settings
from keys.sealed import decrypt_secret, encrypt_secret, legacy_encrypt_secret


async def test_new_secrets_are_aes_gcm_bound_to_their_gallery(app, make_gallery):
    alpha = await make_gallery("alpha")
    beta = await make_gallery("beta", "Beta")
    sealed = encrypt_secret(alpha["ctx"], "smtp-pässword")
    assert sealed.startswith("enc2:") and "smtp" not in sealed
    assert decrypt_secret(alpha["ctx"], sealed) == "smtp-pässword"
    assert decrypt_secret(beta["ctx"], sealed) == ""
    # A flipped bit anywhere fails authentication rather than giving garbage.
    body = bytearray(sealed.encode())
    body[10] = ord("A") if body[10] != ord("A") else ord("B")
    assert decrypt_secret(alpha["ctx"], body.decode()) == ""
    assert decrypt_secret(alpha["ctx"], "enc2:!!notbase64") == ""
    assert decrypt_secret(alpha["ctx"], "enc2:AAAA") == ""
    assert decrypt_secret(alpha["ctx"], "plain-text") == ""


async def test_old_enc1_values_still_decrypt_and_are_resealed_on_the_next_save(app, make_gallery):
    gallery = await make_gallery("alpha")
    ctx = gallery["ctx"]
    legacy = legacy_encrypt_secret(ctx, "old-smtp-secret")
    assert legacy.startswith("enc1:")
    assert decrypt_secret(ctx, legacy) == "old-smtp-secret"
    # As an older release stored it.
    await ctx.db.settings.update_one(
        {"_id": "gallery"},
        {
            "$set": {
                "values.smtp_password": legacy,
                "values.smtp_host": "mail.alpha.test",
                "values.smtp_username": "mailer",
            }
        },
        upsert=True,
    )
    ctx.settings_cache = None
    settings = await get_settings(ctx)
    assert smtp_options(settings, app.services.config, ctx)["password"] == "old-smtp-secret"
    # Any save (here of an unrelated setting) re-encrypts it.
    await update_settings(ctx, {"from_name": "Alpha photos"})
    stored = (await ctx.db.settings.find_one({"_id": "gallery"}))["values"]["smtp_password"]
    assert stored.startswith("enc2:") and stored != legacy
    assert decrypt_secret(ctx, stored) == "old-smtp-secret"
    # A tampered legacy value opens to nothing and is not "upgraded" into a readable one.
    assert (
        decrypt_secret(ctx, legacy[:-4] + ("AAAA" if not legacy.endswith("AAAA") else "BBBB")) == ""
    )
