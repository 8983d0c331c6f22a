#!/usr/bin/env python3
"""Regenerates config/units/successors-2025.csv, the successor of every unit
of the 2024 tree (vn-2024.csv) in the 2025 tree (vn-2025.csv), from the
official conversion table of the 2025 arrangement ("Bảng chuyển đổi ĐVHC
mới - cũ", one row per old commune and new commune it went into, wholly or
in part). Where the table came from and the rules below: config/units/SOURCE.md.

    tools/successors.py SOURCE.csv [--units DIR] [--out FILE]

Rules (each applied count is printed on stderr):
- An old code whose name in the table is not the one vn-2024.csv gives it
  (compared without diacritics, case, spaces or apostrophes) is corrected
  to the commune of that name in the same old district when there is
  exactly one; otherwise the code is kept (a spelling variant).
- A commune that went into several new communes has one row per new
  commune; main = 1 marks the one its figures are counted under: the only
  one; else the new commune that kept the old code; else the only one that
  took it whole (the note says "toàn bộ"); else the only one of the same
  name; else the first the table lists.
- A district goes to the one new commune all its communes went into (an
  island district became a đặc khu), else to the new province of its
  communes; a district without communes to the đặc khu the table names
  for it. A province goes to the new province of its communes.
Every old code must be in vn-2024.csv and every new one in vn-2025.csv;
a province or district whose communes went to two new provinces is an
error. Python 3 standard library only."""

import argparse
import collections
import csv
import re
import sys
import unicodedata


def loose(name):
    """A name compared without diacritics, case, spaces or apostrophes."""
    s = unicodedata.normalize("NFD", name.strip().lower().replace("đ", "d"))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return re.sub(r"[\s'’‘`\-]+", "", s)


def bare(name):
    """The name without its type word (Xã, Phường, Thị trấn, Đặc khu)."""
    return loose(re.sub(r"^(xã|phường|thị trấn|đặc khu)\s+", "", name.strip(), flags=re.I))


def load_units(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def paren_code(text):
    m = re.search(r"\((\d+)\)", text)
    return m.group(1) if m else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="BangChuyendoiĐVHCmoi_cu_khong_merge.csv")
    ap.add_argument("--units", default="config/units", help="directory of vn-2024.csv, vn-2025.csv")
    ap.add_argument("--out", default="config/units/successors-2025.csv")
    a = ap.parse_args()

    old_rows = load_units(a.units + "/vn-2024.csv")
    new_rows = load_units(a.units + "/vn-2025.csv")
    old = {r["code"]: r for r in old_rows}
    new = {r["code"]: r for r in new_rows}

    def province_of(units, code):
        while units[code]["parent_code"]:
            code = units[code]["parent_code"]
        return code

    by_district = collections.defaultdict(list)   # district -> its communes
    for r in old_rows:
        if r["level"] == "commune":
            by_district[r["parent_code"]].append(r)

    stats = collections.Counter()
    pairs = collections.OrderedDict()   # old commune -> [(new, note)] in table order
    zone = {}                            # district without communes -> its đặc khu
    with open(a.source, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    for line, r in enumerate(rows[2:], start=3):
        if len(r) < 8 or not r[2].strip():
            continue                      # a province heading
        new_code, old_name, old_code = r[2].strip(), r[3].strip(), r[4].strip()
        # the output has no quoted fields: the notes' commas become semicolons
        note = " ".join(r[5].split()).replace(",", ";")
        if new_code not in new:
            sys.exit(f"{a.source}:{line}: new code {new_code} is not in vn-2025.csv")
        if not old_code:
            district = paren_code(r[6])
            if district in old and not by_district[district] and "đặc khu" in note.lower():
                zone[district] = new_code
            else:
                print(f"{a.source}:{line}: no old unit ({old_name!r}), skipped", file=sys.stderr)
                stats["rows skipped (no old unit)"] += 1
            continue
        if old_code not in old:
            sys.exit(f"{a.source}:{line}: old code {old_code} is not in vn-2024.csv")
        if loose(old[old_code]["name"]) != loose(old_name):
            same = [c for c in by_district[old[old_code]["parent_code"]]
                    if loose(c["name"]) == loose(old_name)]
            if len(same) == 1:
                print(f"{a.source}:{line}: {old_code} is {old[old_code]['name']!r}, the row "
                      f"names {old_name!r}: corrected to {same[0]['code']}", file=sys.stderr)
                old_code = same[0]["code"]
                stats["old codes corrected by name"] += 1
            else:
                stats["old names spelt otherwise (code kept)"] += 1
        lst = pairs.setdefault(old_code, [])
        if any(n == new_code for n, _ in lst):
            continue
        lst.append((new_code, note))

    def pick(code, lst):
        if len(lst) == 1:
            return lst[0][0], "one"
        for rule, test in (("kept code", lambda n, note: n == code),
                           ("whole", lambda n, note: "toàn bộ" in note.lower()),
                           ("same name", lambda n, note: bare(new[n]["name"]) == bare(old[code]["name"]))):
            hits = [n for n, note in lst if test(n, note)]
            if len(hits) == 1:
                return hits[0], rule
        return lst[0][0], "first listed"

    main_of = {}
    for code, lst in pairs.items():
        main_of[code], rule = pick(code, lst)
        if len(lst) > 1:
            stats["split communes: main by " + rule] += 1

    def one_target(what, code, communes):
        targets = {main_of[c["code"]] for c in communes if c["code"] in main_of}
        provinces = {province_of(new, t) for t in targets}
        if len(provinces) > 1:
            sys.exit(f"{what} {code}: its communes went to provinces {sorted(provinces)}")
        if len(targets) == 1:
            return targets.pop()
        return provinces.pop() if provinces else ""

    out_rows = []
    communes_of_province = collections.defaultdict(list)
    for r in old_rows:
        if r["level"] == "commune":
            communes_of_province[province_of(old, r["code"])].append(r)
    for r in old_rows:
        code, level = r["code"], r["level"]
        if level == "commune":
            lst = pairs.get(code)
            if not lst:
                print(f"commune {code} {r['name']} is not in the table: no successor",
                      file=sys.stderr)
                continue
            for n, note in lst:
                out_rows.append((level, code, n, 1 if n == main_of[code] else 0, note))
        elif level == "district":
            t = zone.get(code) or one_target("district", code, by_district[code])
            if t:
                out_rows.append((level, code, t, 1, ""))
        elif level == "province":
            t = one_target("province", code, communes_of_province[code])
            if t and new[t]["level"] != "province":
                t = province_of(new, t)
            if t:
                out_rows.append((level, code, t, 1, ""))

    for level, old_code, new_code, _, _ in out_rows:
        assert old_code in old and new_code in new, (old_code, new_code)
    with open(a.out, "w", encoding="utf-8", newline="") as f:
        f.write("level,old_code,new_code,main,note\n")
        for row in out_rows:
            f.write(",".join(str(x) for x in row) + "\n")

    mapped = collections.Counter(lv for lv, _, _, m, _ in out_rows if m)
    total = collections.Counter(r["level"] for r in old_rows)
    for level in ("province", "district", "commune"):
        print(f"{level}: {mapped[level]} of {total[level]} mapped", file=sys.stderr)
    for k in sorted(stats):
        print(f"{k}: {stats[k]}", file=sys.stderr)


if __name__ == "__main__":
    main()
