"""Replace one "## " section of bench/results.md, keeping the others."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, heading: str, body: str) -> None:
    """Put `body` (which starts with `heading`) in place of the section with that heading, or append it."""
    old = path.read_text() if path.exists() else "# Benchmarks\n\n"
    start = old.find(heading)
    if start >= 0:
        end = old.find("\n## ", start + len(heading))
        old = old[:start] + old[end + 1 :] if end >= 0 else old[:start]
    path.write_text(old.rstrip() + "\n\n" + body)
