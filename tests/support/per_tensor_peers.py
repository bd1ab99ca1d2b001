"""Each tensor of a .wqc against what general-purpose compressors make of the
same bytes: brotli -q 11 -w 24, xz -9e and zstd -19 --long=27 (the CLIs).
Quantized: the tensor's symbol bytes (from `wqc quantize` with the same
quantizer options) against the .wqc's symbol_bytes; lossless: the tensor's
own bytes against its payload. Prints a Markdown table; --json FILE writes
the rows; --check exits 1 when a tensor is larger than the smallest peer
plus 32 bytes.
usage: per_tensor_peers.py WQC MODEL.safetensors [--lossless] [--check] [--json FILE] [-- ENCODE OPTIONS...]"""
import concurrent.futures
import json
import os
import struct
import subprocess
import sys
import tempfile

PEERS = {
    "brotli": ["brotli", "-q", "11", "-w", "24", "-c"],
    "xz": ["xz", "-9e", "-c"],
    "zstd": ["zstd", "-q", "-19", "--long=27", "-c"],
}


def safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items()}


def peer_size(cmd, data):
    return len(subprocess.run(cmd, input=data, capture_output=True, check=True).stdout)


def all_peer_sizes(tensors):
    """{name: {peer: bytes}} for every tensor, the peers' processes side by side (a core each)."""
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        jobs = {(name, peer): pool.submit(peer_size, cmd, data) for name, data in tensors.items()
                for peer, cmd in PEERS.items()}
        return {name: {peer: jobs[(name, peer)].result() for peer in PEERS} for name in tensors}


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    args = args[:args.index("--")] if "--" in args else args
    wqc, model = args[0], args[1]
    lossless, check = "--lossless" in args, "--check" in args
    json_out = args[args.index("--json") + 1] if "--json" in args else None
    with tempfile.TemporaryDirectory() as tmp:
        enc = os.path.join(tmp, "m.wqc")
        mode = ["--lossless"] if lossless else []
        subprocess.run([wqc, "encode", model, "-o", enc, "-q", "-f"] + mode + extra, check=True)
        info = {t["name"]: t for t in json.loads(subprocess.run([wqc, "info", "--json", enc], capture_output=True,
                                                                check=True).stdout)["tensors"]}
        if lossless:
            source = safetensors(model)
        else:
            q = os.path.join(tmp, "q.safetensors")
            subprocess.run([wqc, "quantize", model, "-o", q, "-q", "-f"] + extra, check=True)
            source = safetensors(q)
    rows, worst = [], 0
    measured = {name: t for name, t in info.items()
                if ("symbol_bytes" in t) != lossless and name in source and len(source[name]) >= 64}
    sizes = all_peer_sizes({name: source[name] for name in measured})
    for name, t in measured.items():
        ours = t["symbol_bytes"] if "symbol_bytes" in t else t["payload_bytes"]
        peers = sizes[name]
        best = min(peers.values())
        rows.append({"tensor": name, "bytes": len(source[name]), "wqc": ours, "storage": t.get("storage"),
                     "mode": t.get("mode", t.get("storage")), **peers, "ratio": ours / best})
        worst = max(worst, ours - best - 32)
    print("| tensor | bytes | wqc | coding | brotli | xz | zstd | wqc / smallest |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print("| %s | %d | %d | %s | %d | %d | %d | %.3f |" % (r["tensor"], r["bytes"], r["wqc"], r["mode"], r["brotli"],
                                                             r["xz"], r["zstd"], r["ratio"]))
    if json_out:
        json.dump(rows, open(json_out, "w"), indent=1)
    if check and worst > 0:
        bad = [r["tensor"] for r in rows if r["wqc"] > min(r["brotli"], r["xz"], r["zstd"]) + 32]
        print("larger than the smallest peer + 32 bytes: %s" % ", ".join(bad), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
