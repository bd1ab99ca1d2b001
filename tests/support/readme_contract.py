#!/usr/bin/env python3
"""README.md as a contract: every `wqc` command line in its code blocks is run
on fixtures named as README names them and must exit 0 (and where its
comment says "byte for byte" or "identical", give that file back); every
synopsis line (with [options] or CAPITAL placeholders) may name only options
that `wqc CMD --help` lists. Prints a line per check and "N passed, M failed".
usage: readme_contract.py WQC WORKDIR README.md"""
import os
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np

from safetensors_write import write

wqc, work, readme = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
passed = failed = 0

# Lines README shows but that per-commit CI cannot afford: `wqc bench` races
# eight codecs on 16 Mi symbols (a minute on two cores); test_bench.sh runs it
# on small inputs. Their options are still checked against --help.
TOO_SLOW = {"wqc bench"}


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}" + (f"\n  {detail.strip()[:600]}" if detail else ""))


def run(cmd, cwd, shell=False):
    return subprocess.run(cmd, cwd=cwd, shell=shell, capture_output=True, text=True, executable="/bin/bash" if shell else None)


def commands():
    """(line number, section, command, comment) of every code-block line that starts with wqc."""
    section, fenced = "", False
    for n, line in enumerate(open(readme, encoding="utf-8"), 1):
        if line.startswith("## "):
            section = line[3:].strip()
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if not (fenced or line.startswith("    ")):
            continue
        text = line.strip()
        if text.startswith("$ "):
            text = text[2:]
        if not text.startswith("wqc "):
            continue
        code, _, comment = text.partition("  #")
        yield n, section, code.strip(), comment.strip()


def synopsis(code):
    return "[" in code or "..." in code or re.search(r"(^| )(IN|OUT|FILE|A B|HEX|GLOB)\b", code) is not None


def safetensors(path, tensors):
    write(path, {k: ("F32", a.shape, a.tobytes()) for k, a in tensors.items()})


def make_fixtures(src):
    os.makedirs(src, exist_ok=True)
    rng = np.random.default_rng(2026)
    t = {"model.embed_tokens.weight": (rng.standard_normal((256, 128)) * 0.02).astype("<f4"),
         "model.layers.0.mlp.up_proj.weight": (rng.standard_normal((256, 512)) * 0.02).astype("<f4"),
         "model.norm.weight": np.ones(128, "<f4"),
         "lm_head.weight": (rng.standard_normal((256, 128)) * 0.02).astype("<f4")}
    safetensors(f"{src}/model.safetensors", t)
    safetensors(f"{src}/base.safetensors", t)
    tuned = {k: (v * (1 + 1e-3 * rng.standard_normal(v.shape))).astype("<f4") for k, v in t.items()}
    safetensors(f"{src}/tuned.safetensors", tuned)
    for cmd in (["quantize", "model.safetensors", "-o", "model.gguf", "--format", "gguf"],
                ["encode", "--lossless", "tuned.safetensors", "-o", "finetuned.wqc"],
                ["quantize", "model.safetensors", "-o", "expected_q.safetensors"]):
        r = run([wqc] + cmd + ["-q"], src)
        if r.returncode:
            sys.exit(f"fixture: wqc {' '.join(cmd)}: {r.stderr}")


def setup(section, src, dst, command):
    """A fresh folder with the fixtures, and (but for encode, which writes
    it) model.wqc as the section makes it."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    if command == "encode":
        return
    how = {"Lossless floats": ["--lossless", "model.safetensors"], "GGUF": ["model.gguf"]}
    args = next((v for k, v in how.items() if section.startswith(k)), ["model.safetensors"])
    r = run([wqc, "encode", "-q"] + args + ["-o", "model.wqc"], dst)
    if r.returncode:
        sys.exit(f"setup: {r.stderr}")


def help_options(cmd):
    r = run([wqc, cmd, "--help"], work)
    return set(re.findall(r"--[a-z][a-z0-9-]*", r.stdout))


def main():
    src = f"{work}/fixtures"
    shutil.rmtree(work, ignore_errors=True)
    make_fixtures(src)
    digest = run([wqc, "info", "--digest", "model.safetensors"], src).stdout.split("model ")[-1].split()[0]
    for n, section, code, comment in commands():
        words = shlex.split(code.replace("|| exit 1", ""))
        what = f"README.md:{n}: {code}"
        if synopsis(code):
            known = help_options(words[1])
            own = re.sub(r"\(.*?\)", "", code)  # "(also: wqc verify --list)" is another command's
            unknown = [o for o in re.findall(r"--[a-z][a-z0-9-]*", own) if o not in known]
            check(not unknown, f"{what}: every option is in 'wqc {words[1]} --help'", f"not there: {unknown}")
            continue
        if " ".join(words[:2]) in TOO_SLOW and len(words) == 2:
            print(f"not run (too slow for per-commit CI; test_bench.sh runs bench): {what}")
            continue
        dst = f"{work}/line{n}"
        setup(section, src, dst, words[1])
        # The fixtures a line does not name are not there, so that its outputs are new.
        named = set(re.findall(r"[\w.-]+\.(?:safetensors|wqc|gguf|npy)", code))
        for f in os.listdir(dst):
            if f not in named and f != "expected_q.safetensors":
                os.remove(f"{dst}/{f}")
        line = code.replace("d3dcd9dc...73", digest).replace("wqc ", wqc + " ", 1)
        r = run(line, dst, shell=True)
        check(r.returncode == 0, what, r.stderr)
        if r.returncode == 0 and re.search(r"byte for byte|identical", comment):
            out = re.search(r"-> ([\w.]+)", comment)
            produced = out.group(1) if out else words[words.index("-o") + 1]
            want = {"model.safetensors": f"{src}/model.safetensors", "model.gguf": f"{src}/model.gguf"}.get(
                produced, f"{src}/expected_q.safetensors")
            same = os.path.exists(f"{dst}/{produced}") and open(f"{dst}/{produced}", "rb").read() == open(want, "rb").read()
            check(same, f"{what}: {produced} is {os.path.basename(want)}, byte for byte")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())
