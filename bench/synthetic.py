"""Make a larger guide from the real one: its chapters repeated N times, with
every id and cross-reference renamed so the copies stay distinct.

    .venv/bin/python bench/synthetic.py 10 /tmp/guide-x10
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make(times: int, target: Path, source: Path = ROOT / "content") -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    guide = (target / "guide.yaml").read_text(encoding="utf-8")
    chapters = re.findall(r"(?m)^  - (chapters/\S+\.md)$", guide)
    ids = set()
    for rel in chapters:
        text = (source / rel).read_text(encoding="utf-8")
        ids |= set(re.findall(r"(?m)^id: (\S+)$", text)) | set(re.findall(r"\{#([a-z][a-z0-9-]*)", text))
    listed = []
    for copy in range(2, times + 1):
        for rel in chapters:
            text = (source / rel).read_text(encoding="utf-8")
            for ident in sorted(ids, key=len, reverse=True):
                text = re.sub(rf"(?<=[#\s{{]){re.escape(ident)}(?=[)\s}}]|$)", f"{ident}-x{copy}", text, flags=re.M)
            name = rel.replace(".md", f"-x{copy}.md")
            (target / name).write_text(text, encoding="utf-8")
            listed.append(f"  - {name}")
    last = f"  - {chapters[-1]}\n"
    (target / "guide.yaml").write_text(guide.replace(last, last + "\n".join(listed) + "\n"), encoding="utf-8")
    return target


if __name__ == "__main__":
    print(make(int(sys.argv[1]), Path(sys.argv[2])))
