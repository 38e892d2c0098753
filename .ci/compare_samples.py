"""Fails when a committed sample plugin no longer matches its rebuilt source: same exports
(name, kind, signature, callable) and same imports. Byte equality is not required, since paths
embedded by the compiler differ between machines."""
import json
import subprocess
import sys
from pathlib import Path


def shape(binary: str, wasm: Path) -> dict:
    out = subprocess.run([binary, "inspect", str(wasm), "--json"], check=True, capture_output=True, text=True)
    info = json.loads(out.stdout)
    return {
        "exports": sorted((e["name"], e["kind"], json.dumps(e["signature"]), e["callable"]) for e in info["exports"]),
        "imports": sorted((i["module"], i["name"], json.dumps(i["signature"])) for i in info["imports"]),
    }


def main() -> int:
    binary, committed, fresh = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    names = sorted(p.name for p in fresh.glob("*.wasm"))
    committed_names = sorted(p.name for p in committed.glob("*.wasm"))
    failed = False
    if names != committed_names:
        print(f"sample set differs: built {names}, committed {committed_names}")
        failed = True
    for name in names:
        if not (committed / name).exists():
            continue
        a, b = shape(binary, committed / name), shape(binary, fresh / name)
        if a != b:
            print(f"{name}: committed module does not match its source; run sample-plugins/build.sh")
            for key in ("exports", "imports"):
                if a[key] != b[key]:
                    print(f"  {key} committed: {a[key]}\n  {key} rebuilt:   {b[key]}")
            failed = True
        else:
            print(f"{name}: matches its source")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
