"""gzip decompression through python-isal (Intel ISA-L, about 3x zlib's speed) where it installs,
zlib otherwise: decompression is most of the cost of reading a bundle or a gzip'd log."""

from __future__ import annotations

import gzip
import zlib
from typing import IO, Any, cast

try:
    from isal import igzip, isal_zlib
except ImportError:  # no wheel for this platform: the standard library does the same, slower
    igzip, isal_zlib = None, None  # type: ignore[assignment]

#: what a corrupt stream raises, from either implementation
ERRORS: tuple[type[Exception], ...] = (zlib.error,)
if isal_zlib is not None:
    ERRORS += (cast(type[Exception], isal_zlib.error),)


def decompressobj() -> Any:
    """A decompressor for one gzip member (wbits 31: gzip header and trailer checked)."""
    return (isal_zlib or zlib).decompressobj(31)


def open_gzip(path: str) -> IO[bytes]:
    """A gzip file opened for binary reading."""
    return (igzip or gzip).open(path, "rb")  # type: ignore[no-any-return]
