"""Writes pyformat_golden.json: each expression of pyformat_cases.txt and
what python3 makes of it. Run: python3 pyformat.py > pyformat_golden.json"""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
out = []
for line in open(os.path.join(here, "pyformat_cases.txt"), encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    v = eval(line)
    out.append([line, v if isinstance(v, str) else str(v)])
print(json.dumps(out, indent=1, ensure_ascii=False))
