"""One configuration source: every setting is a field of `Settings`, and the layers below are handed its values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from agents.compliance.reviewers import hash_token, registry_for
from app.http.auth import ChannelConfigError, load_channels
from app.settings import CONFIG_DIR, Settings


@pytest.fixture(autouse=True)
def _no_dotenv_here(tmp_path, monkeypatch):
    """Settings read `.env` from the working directory: run each test where there is none but its own."""
    monkeypatch.chdir(tmp_path)
    for var in ("SUPPORT_DATA_DIR", "SUPPORT_REVIEWERS_FILE", "SUPPORT_API_KEYS", "SUPPORT_API_KEYS_FILE",
                "SUPPORT_EMBEDDER", "SUPPORT_RETRIEVAL_K"):
        monkeypatch.delenv(var, raising=False)


def test_an_unknown_argument_is_an_error_naming_it():
    with pytest.raises(ValidationError, match="reviewers_fle") as err:
        Settings(reviewers_fle="x.yaml")
    assert err.value.errors()[0]["type"] == "extra_forbidden"


def test_fields_and_their_aliases_are_accepted_by_name():
    s = Settings(reviewers_file="r.yaml", api_keys_file="k.yaml", embedder="torch", openai_api_key="k")
    assert (s.reviewers_file, s.api_keys_file, s.embedder) == (Path("r.yaml"), Path("k.yaml"), "torch")
    assert s.llm_enabled and s.openai_api_key == "k"
    with pytest.raises(ValidationError, match="onnx-fp32"):
        Settings(embedder="tensorflow")


def test_unknown_variables_in_the_environment_and_in_dotenv_are_ignored(tmp_path, monkeypatch):
    """They are shared with other programs (`langgraph dev` reads the same `.env`): not ours to refuse."""
    monkeypatch.setenv("SUPPORT_NOT_A_SETTING", "1")
    (tmp_path / ".env").write_text("SUPPORT_ALSO_NOT_ONE=2\nLANGSMITH_API_KEY=x\nSUPPORT_RETRIEVAL_K=7\n"
                                   "OPENAI_BASE_URL=http://127.0.0.1:9/v1\n")
    s = Settings()
    assert s.retrieval_k == 7 and s.openai_base_url == "http://127.0.0.1:9/v1"


def test_every_setting_is_described():
    assert [name for name, f in Settings.model_fields.items() if not (f.description or "").strip()] == []


def _registry(tmp_path: Path, reviewer: str) -> Path:
    data = yaml.safe_load((CONFIG_DIR / "reviewers.yaml").read_text())
    data["reviewers"][0]["id"] = reviewer
    path = tmp_path / f"{reviewer}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_reviewer_registry_is_the_one_settings_name(tmp_path, monkeypatch):
    given = _registry(tmp_path, "from-argument")
    assert registry_for(Settings(reviewers_file=given)).get("from-argument").id == "from-argument"
    monkeypatch.setenv("SUPPORT_REVIEWERS_FILE", str(_registry(tmp_path, "from-env")))
    assert registry_for(Settings()).get("from-env").id == "from-env"
    assert registry_for(Settings(reviewers_file=given)).source == str(given)  # the argument wins


def test_http_channel_keys_come_from_settings(tmp_path, monkeypatch):
    web, mail = hash_token("web-key"), hash_token("mail-key")
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump({"channels": [{"id": "mail", "key_hash": mail}]}))
    got = load_channels(Settings(api_keys=f"web={web}", api_keys_file=keys))
    assert [(c.id, c.key_hash) for c in got] == [("mail", mail), ("web", web)]
    monkeypatch.setenv("SUPPORT_API_KEYS", f"env={web}")
    assert [c.id for c in load_channels(Settings())] == ["env"]
    assert load_channels(Settings(api_keys=None)) == []
    with pytest.raises(ChannelConfigError, match="SUPPORT_API_KEYS"):
        load_channels(Settings(api_keys="web"))


def test_services_keep_the_model_export_under_their_data_dir(tmp_path, monkeypatch):
    """Nothing is loaded here: which folder the process's model will be exported to, and which runtime."""
    from app.services import Services
    from knowledge import embeddings

    monkeypatch.setattr(embeddings, "_shared", {})  # as in a fresh process
    svc = Services(settings=Settings(data_dir=tmp_path / "x", offline=True, embedder="onnx-fp32"))
    assert svc.embedder.inner.cache_dir == tmp_path / "x" / "models"
    assert svc.embedder.inner.backend == "onnx-fp32"
    other = Services(settings=Settings(data_dir=tmp_path / "y", offline=True, embedder="onnx-fp32"))
    assert other.embedder.inner is svc.embedder.inner  # one model per process: the vectors do not depend on data


@pytest.mark.parametrize("how", ["environment", "dotenv"])
def test_a_data_dir_named_outside_the_command_line_is_checked_too(tmp_path, how):
    from app.cli.main import app

    typo = tmp_path / "dta"
    env = {"SUPPORT_DATA_DIR": str(typo)} if how == "environment" else {}
    if how == "dotenv":
        (tmp_path / ".env").write_text(f"SUPPORT_DATA_DIR={typo}\n")
    result = CliRunner().invoke(app, ["review", "list"], env=env)
    assert result.exit_code == 2 and "does not exist" in result.output, result.output
    assert not typo.exists()


def test_a_candidate_config_may_name_another_registry_but_not_another_model(tmp_path):
    from app.eval.shadow import ShadowConfigError, load_overrides

    _registry(tmp_path, "candidate")
    (tmp_path / "candidate.yaml").rename(tmp_path / "reviewers.yaml")
    good = tmp_path / "good.yaml"
    good.write_text("SUPPORT_REVIEWERS_FILE: reviewers.yaml\n")
    assert load_overrides(good) == {"reviewers_file": tmp_path / "reviewers.yaml"}  # beside the candidate file
    bad = tmp_path / "bad.yaml"
    bad.write_text("embedder: torch\n")  # the shadow run embeds with the live model: the override would do nothing
    with pytest.raises(ShadowConfigError, match="embedder"):
        load_overrides(bad)
