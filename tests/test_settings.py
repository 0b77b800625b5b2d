from pathlib import Path

import pytest

from safecity.settings import ConfigError, load_settings


def test_defaults_are_the_embedded_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite:///safecity-data/safecity.db"
    assert settings.media_path == Path("safecity-data/media")
    assert settings.bus.kind == "memory"
    assert settings.api.port == 8080


def test_yaml_file_and_environment_both_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "safecity.yaml"
    config.write_text("data_dir: /srv/safecity\napi:\n  port: 9000\ndatabase:\n  echo: true\n")
    monkeypatch.setenv("SAFECITY_API__PORT", "9100")
    settings = load_settings(config)
    assert settings.data_dir == Path("/srv/safecity")
    assert settings.database.echo is True
    assert settings.api.port == 9100, "the environment wins over the file"


def test_bad_value_names_file_key_and_expectation(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("api:\n  port: seventy\n")
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    message = str(error.value)
    assert str(config) in message
    assert "api.port" in message
    assert "integer" in message and "'seventy'" in message


def test_unknown_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("databse:\n  url: sqlite://\n")
    with pytest.raises(ConfigError, match=r"databse: unknown key"):
        load_settings(config)


def test_out_of_range_port_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("api:\n  port: 70000\n")
    with pytest.raises(
        ConfigError, match=r"api\.port: input should be less than or equal to 65535"
    ):
        load_settings(config)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("api:\n  port: 8080\n  host: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: not valid YAML"):
        load_settings(config)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_settings(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(config)


def test_bad_environment_value_is_named_with_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_API__PORT", "not-a-port")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "api.port" in str(error.value)
    assert "SAFECITY_API__PORT" in str(error.value)


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("timezone: Mars/Olympus\n")
    with pytest.raises(
        ConfigError, match=r"timezone: value error, unknown time zone 'Mars/Olympus'"
    ):
        load_settings(config)


def test_trusted_proxies_are_addresses_or_networks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("api:\n  trusted_proxies: [10.0.0.5, 10.1.0.0/16, 'fd00::/8']\n")
    assert load_settings(config).api.trusted_proxies == ["10.0.0.5", "10.1.0.0/16", "fd00::/8"]
    monkeypatch.setenv("SAFECITY_API__TRUSTED_PROXIES", '["192.0.2.1"]')
    assert load_settings(config).api.trusted_proxies == ["192.0.2.1"]


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("'*'", "'\\*' does not appear"),
        ("proxy.internal", "does not appear"),
        ("10.0.0.1/8", "host bits set"),
    ],
)
def test_a_trusted_proxy_that_is_not_an_address_is_refused(
    tmp_path: Path, entry: str, why: str
) -> None:
    """uvicorn would take it as a name to compare literally: trust nobody, or with * anybody."""
    config = tmp_path / "city.yaml"
    config.write_text(f"api:\n  trusted_proxies: [{entry}]\n")
    with pytest.raises(ConfigError, match=rf"api\.trusted_proxies: value error, .*{why}"):
        load_settings(config)


def test_sign_in_limits_are_settings(tmp_path: Path) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("api:\n  login:\n    user_address_failures: 0\n")
    with pytest.raises(ConfigError, match=r"api\.login\.user_address_failures: input should be"):
        load_settings(config)


def test_api_docs_and_metrics_access_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "city.yaml"
    for text, error in (
        ("api:\n  docs: private\n", r"api\.docs: input should be 'off', 'signed_in' or 'public'"),
        ("api:\n  metrics_token: short\n", r"api\.metrics_token: value should have at least 16"),
        (
            "api:\n  metrics_public: true\n  metrics_token: 0123456789abcdef\n",
            r"api: value error, metrics_public lets anybody read /metrics",
        ),
    ):
        config.write_text(text)
        with pytest.raises(ConfigError, match=error):
            load_settings(config)

    config.write_text("api:\n  docs: off\n")  # YAML's false, unless quoted
    monkeypatch.setenv("SAFECITY_API__METRICS_TOKEN", "0123456789abcdef")
    settings = load_settings(config)
    assert settings.api.docs == "off"
    assert settings.api.metrics_token is not None
    assert settings.api.metrics_token.get_secret_value() == "0123456789abcdef"
    assert "0123456789abcdef" not in repr(settings), "a secret, never printed"
