"""A systemd unit file read the way systemd reads it, for the deploy tests.

Only what the deploy units use, each rule as systemd.syntax(7), systemd.exec(5) and
systemd.service(5) state it: sections and continuation lines; quoting, where a quote opens
only at the start of a word; Environment= first and every EnvironmentFile= after it, later
wins; specifiers %i, %I and %%; in command lines `$$` for a dollar, `${NAME}` as one
argument and `$NAME` alone as a word split into zero or more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "s": " "}


@dataclass(frozen=True)
class Unit:
    path: Path
    # (section, key, value) in file order; comments kept apart.
    directives: tuple[tuple[str, str, str], ...]
    comments: tuple[str, ...]

    def values(self, key: str, section: str = "Service") -> list[str]:
        return [v for s, k, v in self.directives if s == section and k == key]

    def value(self, key: str, section: str = "Service") -> str | None:
        found = self.values(key, section)
        return found[-1] if found else None

    def words(self, key: str, section: str = "Service") -> list[str]:
        """Every word of every assignment of a list setting (ReadWritePaths= and the like)."""
        return [word for value in self.values(key, section) for word in split_words(value)]


def parse_unit(path: Path) -> Unit:
    directives: list[tuple[str, str, str]] = []
    comments: list[str] = []
    section = ""
    pending = ""
    for raw in path.read_text().splitlines():
        if not pending and raw.lstrip().startswith(("#", ";")):
            comments.append(raw.lstrip()[1:].strip())
            continue
        line = pending + raw
        if line.endswith("\\"):
            # A trailing backslash joins the next line, the backslash becoming a space.
            pending = line[:-1] + " "
            continue
        pending = ""
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            continue
        key, _, value = stripped.partition("=")
        directives.append((section, key.strip(), value.strip()))
    return Unit(path, tuple(directives), tuple(comments))


def split_words(text: str) -> list[str]:
    """Split and unquote: a quote opens only at the start of a word and closes only before
    whitespace or the end (systemd.syntax(7), "Quoting"); elsewhere it is a character."""
    words: list[str] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        quote = text[i] if text[i] in "'\"" else ""
        if quote:
            end = i + 1
            while True:
                end = text.index(quote, end)
                if end + 1 == len(text) or text[end + 1].isspace():
                    break
                end += 1
            body = text[i + 1 : end]
            words.append(body if quote == "'" else _unescape(body))
            i = end + 1
            continue
        end = i
        while end < len(text) and not text[end].isspace():
            end += 2 if text[end] == "\\" else 1
        words.append(_unescape(text[i:end]))
        i = end
    return words


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def expand_specifiers(text: str, instance: str = "") -> str:
    return re.sub(r"%([iI%])", lambda m: "%" if m.group(1) == "%" else instance, text)


def parse_environment_file(text: str) -> dict[str, str]:
    """EnvironmentFile= syntax (systemd.exec(5)): KEY=VALUE lines, `#`/`;` comments, a value
    unquoted (whitespace around it dropped), 'single-quoted' or "double-quoted"."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        while line.endswith("\\") and not line.endswith("\\\\"):
            line = line[:-1] + next(lines, "")
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")) or "=" not in stripped:
            continue
        key, _, value = stripped.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r'\\(["\\`$])', r"\1", value[1:-1])
        else:
            value = re.sub(r"\\(.)", r"\1", value)
        values[key.strip()] = value
    return values


def service_environment(
    unit: Unit, files: Mapping[str, Path], instance: str = ""
) -> dict[str, str]:
    """The variables the unit gives its process: every Environment= in order, then every
    EnvironmentFile= in order over them. `files` maps each EnvironmentFile= path to the file
    that stands in for it; a `-` path that is not there is skipped, as systemd does."""
    env: dict[str, str] = {}
    for value in unit.values("Environment"):
        for word in split_words(expand_specifiers(value, instance)):
            key, _, val = word.partition("=")
            env[key] = val
    for value in unit.values("EnvironmentFile"):
        optional = value.startswith("-")
        name = expand_specifiers(value.removeprefix("-"), instance)
        source = files.get(name)
        if source is None or not source.exists():
            if optional:
                continue
            raise FileNotFoundError(f"{unit.path.name}: EnvironmentFile={name} has no stand-in")
        env.update(parse_environment_file(source.read_text()))
    return env


_DOLLARS = re.compile(r"\$\$|\$\{(\w+)\}")


def command_argv(command: str, env: Mapping[str, str], instance: str = "") -> list[str]:
    """An ExecStart= line as the argv systemd runs (systemd.service(5), "Command lines")."""
    command = command.lstrip("@-:+!")
    argv: list[str] = []
    for word in split_words(expand_specifiers(command, instance)):
        alone = re.fullmatch(r"\$(\w+)", word)
        if alone:
            argv.extend(split_words(env.get(alone.group(1), "")))
            continue
        argv.append(
            _DOLLARS.sub(lambda m: "$" if m.group(1) is None else env.get(m.group(1), ""), word)
        )
    return argv
