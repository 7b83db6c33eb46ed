"""Translation workflow (development tool).

    .venv/bin/python scripts/i18n.py update          # extract msgids from code and templates into zh_CN
    .venv/bin/python scripts/i18n.py missing         # list msgids without a Chinese translation
    .venv/bin/python scripts/i18n.py merge FILE.json # fill translations from {"msgid": "译文", ...}
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "procurement" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PYBABEL = str(ROOT / ".venv" / "bin" / "pybabel")


def extract() -> Path:
    pot = Path(tempfile.mkdtemp()) / "messages.pot"
    subprocess.run([PYBABEL, "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-k", "N_",
                    "--no-location", "--omit-header", "-o", str(pot), str(ROOT)], check=True, capture_output=True)
    return pot


def update() -> None:
    pot = extract()
    subprocess.run([PYBABEL, "update", "-i", str(pot), "-d", str(PO.parents[2]), "-l", "zh_Hans_CN",
                    "--no-fuzzy-matching", "--ignore-obsolete", "--no-wrap"], check=True,
                   capture_output=True)


def load():
    with open(PO, "rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


def missing() -> list[str]:
    return [m.id for m in load() if m.id and (not m.string or m.fuzzy)]


def merge(path: str) -> None:
    catalog = load()
    translations = json.loads(Path(path).read_text(encoding="utf-8"))
    for message in catalog:
        if message.id in translations:
            message.string = translations[message.id]
            message.flags.discard("fuzzy")
    with open(PO, "wb") as fh:
        write_po(fh, catalog, omit_header=False, no_location=True, width=0)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if command == "update":
        update()
        print(f"{len(missing())} msgids need a translation")
    elif command == "missing":
        for msgid in missing():
            print(json.dumps(msgid, ensure_ascii=False))
    elif command == "merge":
        merge(sys.argv[2])
        print(f"{len(missing())} msgids still need a translation")
    else:
        raise SystemExit(__doc__)
