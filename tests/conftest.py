"""Shared fixtures: an isolated cache folder for the whole session, Hershey-font ink, fake
IAM-OnDB downloads, and the real development copy when it is present."""

from __future__ import annotations

from pathlib import Path

import pytest

from handwriting.ink import Ink
from tests.fixtures import FakeIamOnDB, hershey_ink, make_fake_iam_ondb

# The development copy lives beside the repository: /work/shared/data/iam-ondb for /work/main.
REAL_IAM_ONDB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "iam-ondb"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Point HANDWRITING_CACHE at a temporary folder so no test writes to ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HANDWRITING_CACHE", str(tmp_path_factory.mktemp("handwriting-cache")))
        mp.delenv("HANDWRITING_IAM_ONDB", raising=False)
        yield


@pytest.fixture(scope="session")
def text_ink() -> Ink:
    """A line of script writing, y down, with timestamps and pressure."""
    return hershey_ink("The quick brown fox jumps over the lazy dog", pressure=True)


@pytest.fixture(scope="session")
def fake_iam_ondb(tmp_path_factory) -> FakeIamOnDB:
    """The complete official layout: tarballs, task lists in splits/, testset_f present."""
    return make_fake_iam_ondb(tmp_path_factory.mktemp("iam-ondb"))


@pytest.fixture(scope="session")
def fake_iam_ondb_extracted(tmp_path_factory) -> FakeIamOnDB:
    """The same download extracted (lineStrokes/, ascii/), task lists at the top level."""
    return make_fake_iam_ondb(tmp_path_factory.mktemp("iam-ondb-extracted"),
                              as_tarballs=False, splits_subfolder=False)


@pytest.fixture(scope="session")
def fake_iam_ondb_dev(tmp_path_factory) -> FakeIamOnDB:
    """Like the development copy: testset_f listed but its ink and text held back."""
    return make_fake_iam_ondb(tmp_path_factory.mktemp("iam-ondb-dev"), include_testset_f=False)


@pytest.fixture(scope="session")
def real_iam_ondb_path() -> Path:
    """The real IAM-OnDB copy in ../shared/data/iam-ondb; skips when it is absent."""
    if not (REAL_IAM_ONDB / "lineStrokes-all.tar.gz").is_file():
        pytest.skip(f"real IAM-OnDB copy not found at {REAL_IAM_ONDB}")
    return REAL_IAM_ONDB


@pytest.fixture(scope="session")
def real_iam_ondb(real_iam_ondb_path):
    """The real copy, prepared once per session (about 20 s, then served from the cache)."""
    from handwriting.data.iam_ondb import load_iam_ondb

    return load_iam_ondb(real_iam_ondb_path)


# Property tests run beside training jobs on a shared 2-core CPU: a per-example deadline
# would fail on scheduling noise, not on the code.
from hypothesis import settings  # noqa: E402

settings.register_profile("shared-cpu", deadline=None)
settings.load_profile("shared-cpu")
