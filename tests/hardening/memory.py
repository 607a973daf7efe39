"""Reading a process's memory, for the tests that bound it."""

from __future__ import annotations


def rss_kib(pid: int) -> int:
    """Resident set size of a process, in KiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")
