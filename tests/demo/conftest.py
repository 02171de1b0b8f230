import pytest


@pytest.fixture(autouse=True)
def uploads(app, tmp_path, monkeypatch):
    """The demo's attachments (a letter, a genogram) are written under a temporary UPLOAD_DIR."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"
