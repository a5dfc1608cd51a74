"""The commit a result records: '+dirty' means the code changed, not the reports a run writes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import lifetf.nets.provenance as provenance


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A small git repository standing in for the project root (code and reports committed)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                       check=True, capture_output=True)

    (tmp_path / "lifetf").mkdir()
    (tmp_path / "lifetf" / "code.py").write_text("x = 1\n")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "REPORT.md").write_text("old\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "start")
    monkeypatch.setattr(provenance, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(provenance, "REPORTS", tmp_path / "reports")
    provenance.commit.cache_clear()
    yield tmp_path
    provenance.commit.cache_clear()


def test_a_run_rewriting_the_reports_is_not_dirty_but_a_code_edit_is(project):
    clean = provenance.commit()
    assert len(clean) >= 7 and not clean.endswith("+dirty")
    (project / "reports" / "REPORT.md").write_text("new\n")
    provenance.commit.cache_clear()
    assert provenance.commit() == clean
    (project / "lifetf" / "code.py").write_text("x = 2\n")
    provenance.commit.cache_clear()
    assert provenance.commit() == clean + "+dirty"
