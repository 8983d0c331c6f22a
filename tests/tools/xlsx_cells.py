#!/usr/bin/env python3
"""Prints every cell of an XLSX workbook as 'Sheet!A1<TAB>value', reading
the package's XML directly (no spreadsheet library): sheet names from
xl/workbook.xml, shared strings from xl/sharedStrings.xml. Exits 1 with a
message when the file is not a readable workbook."""
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def main(path):
    try:
        z = zipfile.ZipFile(path)
        bad = z.testzip()
        if bad:
            raise ValueError("corrupt member " + bad)
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target") for r in rels.findall("p:Relationship", NS)}
        strings = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
                strings.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))
        for sheet in wb.find("m:sheets", NS).findall("m:sheet", NS):
            name = sheet.get("name")
            rid = sheet.get("{%s}id" % NS["r"])
            xml = ET.fromstring(z.read("xl/" + target[rid]))
            for c in xml.iter("{%s}c" % NS["m"]):
                v = c.find("m:v", NS)
                if v is None:
                    continue
                val = strings[int(v.text)] if c.get("t") == "s" else v.text
                print("%s!%s\t%s" % (name, c.get("r"), val.replace("\n", " ")))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ET.ParseError) as e:
        print("xlsx_cells: %s: not a readable workbook: %s" % (path, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
