from pathlib import Path

import pytest
import yaml

from server.config import SCHEMA, ConfigError, ensure_host_secret, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_config_yaml_documents_every_key_with_its_default():
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    text = (ROOT / "config.yaml").read_text()
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            assert data[section][key] == spec.default, f"{section}.{key}"
            assert f"# {spec.description}" in text


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("server:\n  port: 9000\n")
    assert load_config(path, env={}).server.port == 9000
    assert load_config(path, env={"ATRIUM_SERVER_PORT": "9100"}).server.port == 9100
    assert load_config(path, env={"ATRIUM_SERVER_XHEADERS": "yes"}).server.xheaders is True


@pytest.mark.parametrize(
    "text, env, key",
    [
        ("server:\n  port: eighty\n", {}, "server.port"),
        ("server:\n  port: true\n", {}, "server.port"),
        ("server:\n  colour: blue\n", {}, "server.colour"),
        ("galaxy:\n  x: 1\n", {}, "galaxy"),
        ("", {"ATRIUM_SERVER_PORTT": "1"}, "ATRIUM_SERVER_PORTT"),
        ("", {"ATRIUM_SERVER_PORT": "x"}, "server.port"),
        ("server:\n  mode: staging\n", {}, "server.mode"),
        ("server:\n  mode: production\n", {}, "security.host_secret"),
    ],
)
def test_a_bad_value_names_the_key(tmp_path, text, env, key):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    assert key in str(err.value)
    assert "\n" not in str(err.value)


def test_development_secret_is_generated_once(tmp_path):
    config = load_config(None, env={}, overrides={"paths.data_dir": str(tmp_path)})
    first = ensure_host_secret(config)
    again = load_config(None, env={}, overrides={"paths.data_dir": str(tmp_path)})
    assert ensure_host_secret(again) == first and len(first) >= 32
    assert (tmp_path / "host-secret").stat().st_mode & 0o777 == 0o600
