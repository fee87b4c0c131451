"""Writes pycompat_golden.json: each expression of pycompat_cases.txt and
what python3 makes of it. Run: python3 pycompat.py > pycompat_golden.json"""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
out = []
for line in open(os.path.join(here, "pycompat_cases.txt"), encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    v = eval(line)
    out.append([line, v if isinstance(v, str) else str(v)])
print(json.dumps(out, indent=1, ensure_ascii=False))
