"""The backup language's history (issue 14): the CI gate (xmlcompat over every pair of
versions, each incompatible step bridged by a transformation), documents generated from
every version's schema and the real backups kept from each release (tests/gallery/archive/backups/)
upgraded through the chain and valid under the newest version, and restored."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from gallery.archive import formats
from gallery.archive.history import check_steps, gate_problems, language
from gallery.archive.restore import prepare
from gallery.intake.ingest import job_queue
from tenants.restore import restore_new

BACKUPS = Path(__file__).parent / "backups"
_STEPS: dict = {}


def steps(tmp_path_factory):
    if "steps" not in _STEPS:  # xmlcompat takes a while per pair: decided once per session
        _STEPS["steps"] = check_steps(tmp_path_factory.mktemp("witness"))
    return _STEPS["steps"]


def test_the_history_passes_the_gate_and_its_incompatible_step_is_witnessed(tmp_path_factory):
    found = steps(tmp_path_factory)
    versions = formats.versions()
    assert versions[0] == 1 and len(versions) >= 2
    assert {(s.old, s.new) for s in found} == {(a, b) for b in versions for a in versions if a < b}
    assert gate_problems(found) == []
    one_two = next(s for s in found if (s.old, s.new) == (1, 2))
    # Version 2 restructured a media object's file facts: xmlcompat proves the step
    # incompatible with an old document the new schema refuses ...
    assert one_two.verdict == "incompatible" and one_two.rule == "ELEMENT_REMOVED"
    witness = etree.parse(str(one_two.witness), formats.safe_parser())
    assert formats.schema(1).validate(witness)
    assert not formats.schema(2).validate(witness)
    # ... and the registered transformation takes exactly that document into version 2.
    upgraded = formats._transform(2)(witness)
    assert formats.schema(2).validate(upgraded), formats.schema(2).error_log


def test_the_gate_fails_on_an_incompatible_step_without_a_transformation(tmp_path_factory):
    found = steps(tmp_path_factory)
    problems = gate_problems(found, has_transformation=lambda v: False)
    assert problems and "format 2 is incompatible with format 1" in problems[0]
    assert "from-1.xsl" in problems[0]


@pytest.mark.parametrize("version", formats.versions())
def test_documents_generated_from_each_version_upgrade_and_validate_against_the_newest(version):
    """xmlcompat's generator: its smallest document of each version (random documents of
    this schema fail in the generator: see the issue 14 report) with the rules made to hold."""
    from xmlcompat.generate import minimal_document, root_declarations

    lang = language(version)
    doc = minimal_document(lang, root_declarations(lang.model)[0])
    doc.getroot().set("format", str(version))
    assert formats.validation_errors(doc, version) == []
    upgraded = formats.check_and_upgrade(doc)
    assert upgraded.getroot().get("format") == str(formats.newest())
    assert formats.validation_errors(upgraded, formats.newest()) == []


@pytest.mark.parametrize("version", formats.versions())
def test_every_release_s_real_backup_is_kept_and_restores(version):
    path = BACKUPS / f"format-{version}.zip"
    assert path.exists(), f"keep a real backup of format {version} in {BACKUPS}"
    prepared = prepare(path)
    assert prepared.declared_version == version
    titles = sorted(m["title"] for m in prepared.snapshot.media)
    assert titles == ["Beach", "Rock"]
    beach = next(m for m in prepared.snapshot.media if m["title"] == "Beach")
    assert beach["file_name"] == "beach.jpg" and beach["mime"] == "image/jpeg"
    assert beach["tags"] == ["sea", "sun"] and "été" in beach["caption"]


async def test_a_format_1_backup_restores_into_this_release(app, tmp_path):
    services = app.services
    result = await restore_new(services.registry, job_queue(services), BACKUPS / "format-1.zip", "old")
    assert result["format"] == 1 and result["media"] == 2
    ctx = await services.registry.context_for_slug("old")
    # Its documents are of database schema 1 (format 1 predates any other): marked so, the
    # database upgrade of older galleries applies to them once gallery.schema moves on.
    assert (await ctx.db.meta.find_one({"_id": "schema"}))["version"] == 1
    with zipfile.ZipFile(BACKUPS / "format-1.zip") as zf:
        for media in await ctx.db.media.find({}).to_list():
            data = ctx.storage.resolve(media["original"]["path"]).read_bytes()
            assert data == zf.read(media["original"]["path"])
            assert hashlib.sha256(data).hexdigest() == media["original"]["sha256"]
            assert media["file_name"] and media["mime"] == "image/jpeg"


def test_format_3_is_decided_compatible_with_2_so_it_needs_no_transformation(tmp_path_factory):
    two_three = next(s for s in steps(tmp_path_factory) if (s.old, s.new) == (2, 3))
    assert two_three.verdict == "compatible" and formats.upgrade_path(3) is None


async def test_the_format_3_backup_brings_its_secrets_and_watermark_back(app):
    """Kept from this release with secrets under the passphrase below and a watermark PNG."""
    from gallery.intake.sync_keys import check_key
    from gallery.settings import get_settings
    from keys.sealed import decrypt_secret

    services = app.services
    result = await restore_new(services.registry, job_queue(services), BACKUPS / "format-3.zip", "three",
                               passphrase="format 3 fixture passphrase")
    assert result["format"] == 3 and result["not_restored"] == []
    ctx = await services.registry.context_for_slug("three")
    values = (await ctx.db.settings.find_one({"_id": "gallery"}))["values"]
    assert decrypt_secret(ctx, values["smtp_password"]) == "hunter2-secret"
    await check_key(ctx, "atrsync_vQFlVtHKKvnGNf_6goyMsxTTlMwW-qpjmYFtNKCD19s")
    digest = (await get_settings(ctx))["watermark_image"]
    with zipfile.ZipFile(BACKUPS / "format-3.zip") as zf:
        assert ctx.storage.resolve(f"watermarks/{digest}.png").read_bytes() == zf.read(f"watermarks/{digest}.png")
