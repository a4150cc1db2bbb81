"""Read the shell templates of a Nextflow module, for the flag contract tests.

Each process's sections (`script:`, `stub:`, ...) are split out, the shell templates taken from the
`script:`/`stub:` blocks (every triple-quoted string; an `if`/`else` gives one template per branch),
and a template is rendered the way Nextflow's GString interpolation would: `${expr}` and `$name`
replaced by the values given, `\\$` and `\\\\` unescaped. Rendering refuses a template that uses an
expression without a value, so a new variable in a module cannot slip past the tests.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

SECTION = re.compile(r"^    (input|output|when|script|stub|exec):\s*$", re.MULTILINE)
TEMPLATE = re.compile(r'"""(.*?)"""', re.DOTALL)
# one token of a GString: an escaped backslash or dollar, ${expression} or $dotted.name
GSTRING_TOKEN = re.compile(r"\\\\|\\\$|\$\{([^}]*)\}|\$([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)")


@dataclass
class Process:
    """The sections of one process definition."""

    name: str
    path: Path
    sections: dict[str, str]

    def templates(self, section: str) -> list[str]:
        """The shell templates of `script` or `stub`, one per branch, in file order."""
        return TEMPLATE.findall(self.sections[section])


def read_process(path: Path) -> Process:
    """Parse the single process of a module's main.nf."""
    text = path.read_text()
    header = re.search(r"^process\s+(\w+)\s*\{", text, re.MULTILINE)
    if header is None:
        raise ValueError(f"{path}: no process definition")
    body = text[header.end() : text.rstrip().rfind("}")]
    marks = list(SECTION.finditer(body))
    sections = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
        sections[mark.group(1)] = body[mark.end() : end]
    return Process(name=header.group(1), path=path, sections=sections)


def expressions(template: str) -> set[str]:
    """Every Groovy expression a template interpolates."""
    found = set()
    for match in GSTRING_TOKEN.finditer(template):
        expr = match.group(1) or match.group(2)
        if expr is not None:
            found.add(expr.strip())
    return found


def render(template: str, values: dict[str, str]) -> str:
    """Interpolate a GString template with test values; unknown expressions are an error."""
    missing = sorted(expr for expr in expressions(template) if expr not in values)
    if missing:
        raise KeyError(f"no test value for Nextflow expression(s): {', '.join(missing)}")

    def substitute(match: re.Match) -> str:
        token = match.group(0)
        if token == "\\\\":
            return "\\"
        if token == "\\$":
            return "$"
        return str(values[(match.group(1) or match.group(2)).strip()])

    return GSTRING_TOKEN.sub(substitute, template)


def cli_invocations(shell: str) -> list[list[str]]:
    """Argument lists (after `splam_score.py`) of every splam_score.py command in rendered shell."""
    joined = re.sub(r"\\\n", " ", shell)
    calls = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if Path(word).name == "splam_score.py":
                rest = words[i + 1 :]
                stop = next((j for j, w in enumerate(rest) if w in {"&&", "||", ";", "|"}), len(rest))
                calls.append(rest[:stop])
    return calls
