"""The deploy Dockerfiles read as instructions: what the image sets, declares and runs."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = (REPO / "deploy/docker/Dockerfile", REPO / "deploy/docker/Dockerfile.cuda")


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    # The tag its header says to build it with (`docker build -f THIS -t TAG .`).
    tag: str
    instructions: tuple[tuple[str, str], ...]

    def all(self, name: str) -> list[str]:
        return [args for inst, args in self.instructions if inst == name]

    def final_stage(self) -> list[tuple[str, str]]:
        starts = [i for i, (inst, _) in enumerate(self.instructions) if inst == "FROM"]
        return list(self.instructions[starts[-1] :])

    def bases(self) -> list[str]:
        """Each stage's base image, with ARG defaults filled in."""
        args = dict(a.split("=", 1) for inst, a in self.instructions if inst == "ARG" and "=" in a)
        return [
            re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage.split()[0])
            for stage in self.all("FROM")
        ]

    def env(self) -> dict[str, str]:
        """ENV of the final stage (`$PATH`-style references left as written)."""
        values: dict[str, str] = {}
        for inst, args in self.final_stage():
            if inst == "ENV":
                for word in shlex.split(args):
                    name, _, value = word.partition("=")
                    values[name] = value
        return values

    def volumes(self) -> list[str]:
        return [v for inst, a in self.final_stage() if inst == "VOLUME" for v in json.loads(a)]

    def exposed_ports(self) -> list[int]:
        return [int(p.split("/")[0]) for a in self.all("EXPOSE") for p in a.split()]

    def user(self) -> str:
        return [a for inst, a in self.final_stage() if inst == "USER"][-1]

    def cmd(self) -> list[str]:
        value: list[str] = json.loads(self.all("CMD")[-1])
        return value

    def healthcheck(self) -> list[str]:
        """The HEALTHCHECK command in exec form."""
        args = self.all("HEALTHCHECK")[-1]
        value: list[str] = json.loads(args[args.index("CMD") + 3 :].strip())
        return value

    def runs(self) -> str:
        return "\n".join(a for inst, a in self.final_stage() if inst == "RUN")


def parse_dockerfile(path: Path) -> Dockerfile:
    instructions: list[tuple[str, str]] = []
    pending = ""
    tag = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        build = re.search(r"docker build -f (\S+) -t (\S+) \.", raw)
        if stripped.startswith("#"):
            if build and (REPO / build.group(1)).resolve() == path.resolve():
                tag = build.group(2)
            continue
        if not stripped and not pending:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = pending + stripped
        pending = ""
        name, _, args = line.partition(" ")
        instructions.append((name.upper(), args.strip()))
    return Dockerfile(path, tag, tuple(instructions))


def built_images() -> dict[str, Dockerfile]:
    """Image tag -> the Dockerfile that builds it."""
    return {(d := parse_dockerfile(p)).tag: d for p in DOCKERFILES}
