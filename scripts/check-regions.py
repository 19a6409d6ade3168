#!/usr/bin/env python3
"""Sanity checks for data/demo/regions.json (the demo province's administrative divisions).

Usage: python3 scripts/check-regions.py [path/to/regions.json]
Exits non-zero with a list of problems if any check fails.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

FIELDS = ["code", "name", "short", "parent", "level", "phone_area",
          "center", "center_address", "hours"]
LEVELS = {"province": None, "prefecture": "province", "county": "prefecture"}
EXPECTED_PREFECTURES = 14


def main() -> int:
    default = Path(__file__).resolve().parent.parent / "data" / "demo" / "regions.json"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    rows = json.loads(path.read_text(encoding="utf-8"))
    errors = []

    def err(row, msg):
        errors.append(f"{row.get('code', '?')} {row.get('name', '')}: {msg}")

    if not isinstance(rows, list) or not rows:
        print(f"{path}: expected a non-empty JSON array")
        return 1

    seen = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append(f"row {i}: not an object")
            continue
        missing = [f for f in FIELDS if f not in row]
        extra = [f for f in row if f not in FIELDS]
        if missing:
            err(row, f"missing fields {missing}")
        if extra:
            err(row, f"unexpected fields {extra}")
        for f in FIELDS:
            v = row.get(f)
            if f == "parent" and row.get("level") == "province":
                if v is not None:
                    err(row, "province must have parent null")
                continue
            if not isinstance(v, str) or not v.strip():
                err(row, f"field {f!r} is empty or not a string")
        code = row.get("code", "")
        if not re.fullmatch(r"\d{6}", str(code)):
            err(row, "code is not 6 digits")
            continue
        if code in seen:
            err(row, f"duplicate code (row {seen[code]} and row {i})")
        level = row.get("level")
        parent = row.get("parent")
        if level not in LEVELS:
            err(row, f"unknown level {level!r}")
        # code shape per level (GB/T 2260)
        if level == "province" and not code.endswith("0000"):
            err(row, "province code must end in 0000")
        if level == "prefecture" and (code.endswith("0000") or not code.endswith("00")):
            err(row, "prefecture code must end in 00 (not 0000)")
        if level == "county":
            if code.endswith("00"):
                err(row, "county code must not end in 00")
            if "市辖区" in str(row.get("name", "")):
                err(row, "市辖区 placeholder rows must not be listed")
            # xx01 under a 地级市 is the 市辖区 placeholder; under a 自治州 / 地区 it can be
            # a real county-level city (433101 吉首市)
            parent_row = rows[seen[parent]] if parent in seen else {}
            if code[4:] == "01" and str(parent_row.get("name", "")).endswith("市"):
                err(row, "county code ends in 01 under a 地级市: a 市辖区 placeholder?")
        if not re.fullmatch(r"0\d{2,3}", str(row.get("phone_area", ""))):
            err(row, f"phone_area {row.get('phone_area')!r} is not a telephone area code")
        if level != "province":
            if parent not in seen:
                err(row, f"parent {parent!r} missing or after child")
            else:
                prow = rows[seen[parent]]
                if prow.get("level") != LEVELS.get(level):
                    err(row, f"parent level {prow.get('level')!r}, expected {LEVELS.get(level)!r}")
                if level == "prefecture" and code[:2] != parent[:2]:
                    err(row, "prefecture code prefix does not match province")
                if level == "county":
                    if code[:4] != parent[:4]:
                        err(row, "county code prefix does not match prefecture")
                    if row.get("phone_area") != prow.get("phone_area"):
                        err(row, "county phone_area differs from its prefecture's")
        if row.get("short") and row.get("name") and row["short"] not in row["name"] \
                and not row["name"].startswith(row["short"][:1]):
            err(row, f"short {row['short']!r} does not look like a short form of the name")
        seen[code] = i

    levels = Counter(r.get("level") for r in rows if isinstance(r, dict))
    if levels["province"] != 1:
        errors.append(f"expected exactly 1 province, found {levels['province']}")
    elif rows[0].get("level") != "province":
        errors.append("the province must come first")
    if levels["prefecture"] != EXPECTED_PREFECTURES:
        errors.append(f"expected {EXPECTED_PREFECTURES} prefectures, found {levels['prefecture']}")
    pref_codes = [r["code"] for r in rows if isinstance(r, dict) and r.get("level") == "prefecture"]
    no_children = [c for c in pref_codes
                   if not any(isinstance(r, dict) and r.get("parent") == c for r in rows)]
    if no_children:
        errors.append(f"prefectures without counties: {no_children}")
    names = Counter((r.get("parent"), r.get("name")) for r in rows if isinstance(r, dict))
    for (p, n), k in names.items():
        if k > 1:
            errors.append(f"name {n!r} appears {k} times under {p}")

    if errors:
        print(f"{path}: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        return 1
    per_pref = Counter(r.get("parent") for r in rows if r.get("level") == "county")
    print(f"{path}: OK — 1 province, {levels['prefecture']} prefectures, {levels['county']} counties")
    for r in rows:
        if r.get("level") == "prefecture":
            print(f"  {r['code']} {r['name']}: {per_pref[r['code']]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
