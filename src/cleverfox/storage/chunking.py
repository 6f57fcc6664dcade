"""Content-defined chunking (FastCDC 2020, by PyPI's ``pyfastcdc``).

The agent splits every file with the check-in's parameters; the server never chunks, it only
announces the parameters and refuses a piece larger than ``max_bytes``. Cut points depend
only on the bytes and the parameters (the Cython build and the library's pure-Python
fallback agree; tests pin a golden vector), so an unchanged file yields the same chunks on
every platform and run after run, and an edit changes only the chunks around it.

FastCDC's ``avg_bytes`` is the parameter of its cut masks; the measured mean chunk is about
``avg_bytes + min_bytes`` (cut-point skipping, FastCDC §3.4): ~1.25 MiB with the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from pyfastcdc import FastCDC

KIB = 1024
MIB = 1024 * KIB

# pyfastcdc's own bounds; a value outside them is refused here, with our names.
_MIN_BOUNDS = (64, 1 * MIB)
_AVG_BOUNDS = (256, 4 * MIB)
_MAX_BOUNDS = (1 * KIB, 16 * MIB)


@dataclass(frozen=True, slots=True)
class ChunkingParams:
    """FastCDC's minimum, average and maximum chunk sizes (the check-in's ``Chunk*Bytes``)."""

    min_bytes: int = 256 * KIB
    avg_bytes: int = 1 * MIB
    max_bytes: int = 4 * MIB

    def __post_init__(self) -> None:
        for name, value, (low, high) in (
            ("min_bytes", self.min_bytes, _MIN_BOUNDS),
            ("avg_bytes", self.avg_bytes, _AVG_BOUNDS),
            ("max_bytes", self.max_bytes, _MAX_BOUNDS),
        ):
            if not low <= value <= high:
                raise ValueError(f"{name} must be within [{low}, {high}], not {value}")
        if not self.min_bytes <= self.avg_bytes <= self.max_bytes:
            raise ValueError("chunk sizes must satisfy min_bytes <= avg_bytes <= max_bytes")


DEFAULT_CHUNKING = ChunkingParams()


class Chunker:
    """Cuts bytes or files into chunks with one set of parameters.

    Cheap to construct (about a microsecond) and picklable (it pickles as its parameters),
    so worker processes can receive one. Not safe to share between threads at once.
    """

    __slots__ = ("_cdc", "params")

    def __init__(self, params: ChunkingParams = DEFAULT_CHUNKING) -> None:
        self.params = params
        self._cdc = FastCDC(params.avg_bytes, min_size=params.min_bytes, max_size=params.max_bytes)

    def __reduce__(self) -> tuple[type[Chunker], tuple[ChunkingParams]]:
        return (Chunker, (self.params,))

    def chunks_of_bytes(self, data: bytes | bytearray | memoryview) -> Iterator[memoryview]:
        """The chunks of ``data`` as views into it, in order; none for empty data."""
        for chunk in self._cdc.cut_buf(data):
            yield chunk.data

    def chunks_of_stream(self, stream: BinaryIO) -> Iterator[bytes]:
        """The chunks of everything ``stream`` yields until its end, in order.

        Memory: the library's buffer (twice ``max_bytes``) plus the chunk being yielded;
        each chunk is a copy, valid after the next is cut.
        """
        for chunk in self._cdc.cut_stream(stream):
            yield bytes(chunk.data)

    def chunks_of_file(self, path: str | os.PathLike[str]) -> Iterator[bytes]:
        """The chunks of the file at ``path``, read with unbuffered ``readinto`` calls.

        The library reads straight into its own buffer, so memory is that buffer plus one
        chunk. Not mmap: a file truncated while it is read would kill the process with
        SIGBUS; here it only ends early, and the caller notices the size changed.
        """
        with open(path, "rb", buffering=0) as raw:
            yield from self.chunks_of_stream(raw)
