"""The README's settings table, printed from the declarations (config/conf.py and each app's conf.py).

`python -m config.settings_table` prints it; `--write` puts it into README.md between its markers.
tests/config/test_settings_table.py fails when README.md and the declarations disagree.
"""

import sys
from pathlib import Path

from config.conf import ALL_SETTINGS
from core.conf import Setting, Settings

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = (
    "<!-- settings table: printed by `python -m config.settings_table --write` from the declarations "
    "(config/conf.py, each app's conf.py); change those, not this -->"
)
END = "<!-- end of settings table -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(*cells: str) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def table(collections: list[Settings] = ALL_SETTINGS) -> str:
    declared: list[Setting] = [setting for collection in collections for setting in collection]
    lines = [BEGIN, "| variable | kind | default | meaning |", "|---|---|---|---|"]
    lines += [_row(f"`{s.env}`", s.kind.label, s.default_shown(), s.doc) for s in declared if s.env]
    django_only = [setting for setting in declared if not setting.env]
    if django_only:
        lines += [
            "",
            "Django settings without an environment variable (set in a settings module, or in tests with "
            "the `settings` fixture):",
            "",
            "| setting | default | meaning |",
            "|---|---|---|",
        ]
        lines += [_row(f"`{s.name}`", s.default_shown(), s.doc) for s in django_only]
    return "\n".join([*lines, END])


def readme_with_table(readme: str) -> str:
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + table() + readme[end:]


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        README.write_text(readme_with_table(README.read_text()))
    elif not argv:
        print(table())
    else:
        print("usage: python -m config.settings_table [--write]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
