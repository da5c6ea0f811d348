"""Tar streams that say when they are cut.

`tarfile` read as a stream (`r|*`) takes a header cut short, missing or garbled after the first
member for the end of the archive: the members after the cut vanish without a word. Opened with
`tarinfo=CheckedTarInfo`, such an archive raises `tarfile.ReadError` instead ("unexpected end ..."
for a cut, "invalid member header ..." for garbage), which the readers count as one bad unit
after the members read before it. Only the end-of-archive block of zeros ends an archive quietly.
"""
from __future__ import annotations

import tarfile


class CheckedTarInfo(tarfile.TarInfo):
    @classmethod
    def fromtarfile(cls, tar):
        try:
            return super().fromtarfile(tar)
        except (tarfile.EmptyHeaderError, tarfile.TruncatedHeaderError) as e:
            # SubsequentHeaderError is the one header error tarfile raises at any offset.
            raise tarfile.SubsequentHeaderError(f"unexpected end of tar stream at or inside a member header ({e})") from None
        except tarfile.InvalidHeaderError as e:
            if isinstance(e, tarfile.EOFHeaderError):
                raise  # the end-of-archive zeros
            raise tarfile.SubsequentHeaderError(f"invalid member header: {e}") from None


def open_stream(fileobj, mode: str = "r|*") -> tarfile.TarFile:
    """`tarfile.open(fileobj=…, mode=…)` that reports a cut archive (see the module doc)."""
    try:
        return tarfile.open(fileobj=fileobj, mode=mode, tarinfo=CheckedTarInfo)
    except (TypeError, ValueError, IndexError) as e:
        # tarfile's own gzip-header parser fails this way on a header cut inside its extra field
        # (found by fuzz/): a bad archive like any other
        raise tarfile.ReadError(f"unexpected end of compressed header: {type(e).__name__}: {e}") from None
