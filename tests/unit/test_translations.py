"""Chinese first: every message in the code and templates has a Simplified-Chinese translation."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "procurement" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _extracted(tmp_path) -> set[str]:
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
                    "-k", "N_", "-o", str(pot), str(ROOT)], check=True, capture_output=True)
    with open(pot, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def _catalog():
    with open(PO, "rb") as fh:
        return {m.id: m for m in read_po(fh, locale="zh_Hans_CN") if m.id}


def test_every_message_is_translated(tmp_path):
    catalog = _catalog()
    missing = sorted(msgid for msgid in _extracted(tmp_path)
                     if msgid not in catalog or not catalog[msgid].string or catalog[msgid].fuzzy)
    assert missing == [], "run `python scripts/i18n.py update` and translate: " + "; ".join(missing[:20])


def test_translations_keep_their_placeholders_and_are_chinese():
    for msgid, message in _catalog().items():
        if not message.string:
            continue
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(message.string)), msgid
        if re.search(r"[A-Za-z]{3}", msgid) and not re.fullmatch(r"[\w\s.()%-]*(Excel|CSV|TOTP|PDF)[\w\s.()%-]*", msgid):
            assert CJK.search(message.string), (msgid, message.string)


def test_every_audited_action_has_a_label():
    """The audit administrator reads actions by name; a new action without a label would show as a code."""
    from procurement.audit.labels import ACTION_LABELS

    source = "\n".join(p.read_text(encoding="utf-8") for area in ("procurement", "contracts", "evaluation")
                       for p in (ROOT / area).rglob("*.py"))
    actions = set(re.findall(r'append_audit\([^"\n]*"([a-z_]+\.[a-z_]+)"', source))
    assert len(actions) > 40
    assert sorted(actions - set(ACTION_LABELS)) == []


def test_the_catalog_compiles_without_errors(tmp_path):
    """`make` compiles the catalog; a msgid Babel misreads as a format string would break installation."""
    import shutil

    target = tmp_path / "translations"
    shutil.copytree(PO.parents[2], target)
    pybabel = Path(sys.executable).with_name("pybabel")
    result = subprocess.run([str(pybabel), "compile", "-d", str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
