"""What machine and commit a result was measured on."""

from __future__ import annotations

import os
import platform
import re
import subprocess


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def machine_class(nproc: int | None = None, model: str | None = None) -> str:
    """Baselines are kept per class: CPU count and model, e.g. '2cpu-amd-epyc'."""
    nproc = nproc or os.cpu_count() or 1
    slug = re.sub(r"[^a-z0-9]+", "-", (model or cpu_model()).lower()).strip("-")
    slug = "-".join(slug.split("-")[:4]) or "unknown"
    return f"{nproc}cpu-{slug}"


def machine_info() -> dict:
    return {
        "class": machine_class(),
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def git_commit(repo: str) -> dict:
    def run(*args: str) -> str:
        return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True,
                              check=False).stdout.strip()
    return {"commit": run("rev-parse", "HEAD"),
            "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
