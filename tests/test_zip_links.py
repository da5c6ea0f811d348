"""A symlink member of a zip is what a tar link already was (issue 22, 11): `not_regular_file`, never
a document whose text is the link's target path, and never a licence text. Built from the real sdist
six-1.16.0 repacked as a zip (as GitHub serves repositories) with links added the way `zip -y`
stores them: Unix file type S_IFLNK in the high bits of external_attr, the target as the data."""
from __future__ import annotations

import contextlib
import io
import stat
import tarfile
import zipfile

from common.events import Event
from common.record import Document
from pipeline import recipe
from pipeline.sources import github_read
from tests.conftest import SHARED

SIX = SHARED / "github" / "six-1.16.0.tar.gz"
LINKS = {"six-1.16.0/six_link.py": "six.py", "six-1.16.0/docs/LICENSE": "../LICENSE"}


def _zip(with_links: bool) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(SIX) as tar, zipfile.ZipFile(buf, "w") as z:
        for m in tar.getmembers():
            if m.isfile():
                info = zipfile.ZipInfo(m.name)
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                z.writestr(info, tar.extractfile(m).read())
        if with_links:
            for name, target in LINKS.items():
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, target)
    return buf.getvalue()


def _read(data: bytes):
    adm = github_read.Admission.from_recipe(recipe.load()["github"])
    return list(github_read.read_zip("six-1.16.0.zip", lambda path: contextlib.nullcontext(io.BytesIO(data)), adm))


def test_zip_symlinks_are_not_regular_files():
    plain, linked = _read(_zip(False)), _read(_zip(True))
    docs = lambda outs: sorted(o.meta["path"] for o in outs if isinstance(o, Document))  # noqa: E731
    assert docs(linked) == docs(plain) and "six.py" in docs(plain)
    assert sorted(o.reason for o in linked if isinstance(o, Event)) == sorted(
        [o.reason for o in plain if isinstance(o, Event)] + ["not_regular_file"] * len(LINKS))
    assert {o.meta["license"] for o in linked if isinstance(o, Document)} == {"mit"}
    assert all(o.text not in LINKS.values() for o in linked if isinstance(o, Document))
