from estate.common.config import load_config


def test_yaml_over_billing_defaults(tmp_path):
    path = tmp_path / "billing.yaml"
    path.write_text("currency: USD\n")
    config = load_config(path, environ={"ESTATE_RETRIES": "5"})
    assert config == {"currency": "USD", "port": 8701, "retries": "5"}
