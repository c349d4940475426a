"""ELF: the newest GLIBC symbol version a shared object needs (Lambda's python3.13 runtime has glibc 2.34)."""

from __future__ import annotations

import struct
from pathlib import Path

from tools.packaging.stage import MAX_GLIBC, PackagingError

_SHT_GNU_VERNEED = 0x6FFFFFFE
_EM_X86_64 = 62


def glibc_versions_needed(path: Path) -> set[tuple[int, ...]]:
    """GLIBC_x.y versions named in the ELF file's version-needs section (.gnu.version_r); empty if not ELF.

    Raises PackagingError for an ELF file that is not 64-bit little-endian x86-64 (it could not load on Lambda).
    """
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        return set()
    if data[4] != 2 or data[5] != 1 or struct.unpack_from("<H", data, 18)[0] != _EM_X86_64:
        raise PackagingError(f"{path}: not a 64-bit x86-64 ELF file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    versions: set[tuple[int, ...]] = set()
    for _name, kind, _flags, _addr, offset, _size, link, count, _align, _entsize in sections:
        if kind != _SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        entry = offset
        for _ in range(count):
            _version, aux_count, _file, aux, next_entry = struct.unpack_from("<HHIII", data, entry)
            aux_at = entry + aux
            for _ in range(aux_count):
                _hash_value, _flags2, _other, name_at, next_aux = struct.unpack_from("<IHHII", data, aux_at)
                end = data.index(b"\0", strings + name_at)
                name = data[strings + name_at : end].decode("ascii", "replace")
                if name.startswith("GLIBC_") and name[6:7].isdigit():
                    versions.add(tuple(int(p) for p in name[6:].split(".") if p.isdigit()))
                aux_at += next_aux
            entry += next_entry
    return versions


def check_glibc(root: Path, limit: tuple[int, ...] = MAX_GLIBC) -> tuple[int, ...]:
    """The newest GLIBC version any shared object under `root` needs; PackagingError naming those above `limit`."""
    newest: tuple[int, ...] = ()
    too_new: list[str] = []
    for path in sorted(root.rglob("*.so*")):
        if not path.is_file() or path.is_symlink():
            continue
        versions = glibc_versions_needed(path)
        if not versions:
            continue
        top = max(versions)
        newest = max(newest, top)
        if top > limit:
            too_new.append(f"{path.relative_to(root)} needs GLIBC_{'.'.join(map(str, top))}")
    if too_new:
        limit_text = ".".join(map(str, limit))
        raise PackagingError(f"shared objects built for a newer glibc than {limit_text}:\n" + "\n".join(too_new))
    return newest
