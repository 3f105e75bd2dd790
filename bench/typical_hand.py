"""The floor for `bench/typical_run.py`: the demo's work done by hand, with the standard library only.

It reads the same files as `./dev demo` (the Image Builder export, the saved Inspector findings and
details, the KEV catalog and the EPSS CSV), joins them per CVE the way gate merges sources (Inspector
first, then the feeds), applies the five rules of `policies/default.yaml` as plain `if`s, and writes
the same four reports: JSON, SARIF 2.1.0, Markdown and one HTML page, escaped with `html.escape`. It
prints one line per finding (`key decision`) so the benchmark can check it decides as gate does.

Usage: python bench/typical_hand.py EXAMPLES_DIR OUT_DIR
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import sys
from pathlib import Path


def main(examples: Path, out: Path) -> None:
    pages = json.loads((examples / "findings.json").read_bytes())
    findings = [f for page in pages for f in page["findings"]]
    arn_cve: dict[str, str] = {}
    inspector: dict[str, dict[str, object]] = {}
    for f in json.loads((examples / "inspector-findings.json").read_bytes())["findings"]:
        cve = f["packageVulnerabilityDetails"]["vulnerabilityId"]
        arn_cve[f["findingArn"]] = cve
        known = inspector.setdefault(cve, {})
        score = (f.get("epss") or {}).get("score")
        if score is not None:
            known.setdefault("epss", score)
        if f.get("exploitAvailable") in ("YES", "NO"):
            known.setdefault("exploit", f["exploitAvailable"] == "YES")
    for d in json.loads((examples / "finding-details.json").read_bytes())["findingDetails"]:
        known = inspector.setdefault(arn_cve[d["findingArn"]], {})
        known["detail"] = True
        known["kev"] = bool(d.get("cisaData")) or known.get("kev", False)
        if d.get("epssScore") is not None:
            known["epss"] = d["epssScore"]
    kev = {v["cveID"] for v in json.loads((examples / "kev.json").read_bytes())["vulnerabilities"]}
    epss: dict[str, float] = {}
    with gzip.open(examples / "epss-scores.csv.gz", "rt", newline="") as stream:
        next(stream)  # the '#model_version' line
        for row in csv.DictReader(stream):
            epss[row["cve"]] = float(row["epss"])

    rows = []
    for f in findings:
        details = f["packageVulnerabilityDetails"]
        cve = details["vulnerabilityId"]
        known = inspector.get(cve, {})
        in_kev = bool(known.get("kev")) or cve in kev
        score = known.get("epss", epss.get(cve))
        enriched = bool(known) or cve in kev or cve in epss
        fix = f.get("fixAvailable") in ("YES", "PARTIAL")
        severity = f["severity"].strip().upper()
        critical = severity == "CRITICAL"
        matched = [rule for rule, hit in (
            ("known-exploited", in_kev),
            ("likely-exploited", isinstance(score, float) and score > 0.5 and fix),
            ("critical-fixable", critical and fix),
            ("critical-unknown", critical and not enriched),
            ("high", severity == "HIGH"),
        ) if hit]
        decision = "fail" if any(r != "high" for r in matched) else "warn" if matched else "pass"
        packages = [{"name": p["name"], "installed": (f"{p['epoch']}:" if p.get("epoch") else "")
                     + f"{p['version']}-{p['release']}", "fixedIn": p.get("fixedInVersion"),
                     "arch": p.get("arch"), "filePath": p.get("filePath")}
                    for p in details["vulnerablePackages"]]
        key = cve + "|" + ",".join(sorted(f"{p['name']}@{p['installed']}/{p['arch'] or ''}/{p['filePath'] or ''}"
                                          for p in packages))
        rows.append({"key": key, "vulnerabilityId": cve, "severity": severity, "decision": decision,
                     "matchedRules": matched, "title": f.get("title"), "fixAvailable": f.get("fixAvailable"),
                     "kev": in_kev, "epss": score, "enriched": enriched, "packages": packages,
                     "sourceUrl": details.get("sourceUrl"), "description": f.get("description")})

    verdict = "fail" if any(r["decision"] == "fail" for r in rows) else "pass"
    counts = {d: sum(1 for r in rows if r["decision"] == d) for d in ("fail", "warn", "pass")}
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(
        {"verdict": verdict, "summary": counts, "findings": rows}, indent=2))
    results = [{"ruleId": r["matchedRules"][0], "level": "error" if r["decision"] == "fail" else "warning",
                "message": {"text": f"{r['vulnerabilityId']} ({r['severity']}): {r['title']}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "image-recipe.yaml"}}}],
                "partialFingerprints": {"primaryLocationLineHash": r["key"]}}
               for r in rows if r["decision"] != "pass"]
    (out / "report.sarif").write_text(json.dumps({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "gate"}}, "results": results}]}, indent=2))

    def md(text: object) -> str:
        return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")

    lines = [f"## gate: {verdict}", "", " | ".join(f"{k} {v}" for k, v in counts.items()), "",
             "| decision | vulnerability | severity | packages | rules |", "|---|---|---|---|---|"]
    lines += [f"| {r['decision']} | {md(r['vulnerabilityId'])} | {r['severity']} | "
              f"{md(', '.join(p['name'] for p in r['packages']))} | {', '.join(r['matchedRules'])} |"
              for r in rows]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    cells = "".join(
        f"<tr><td>{r['decision']}</td><td>{html.escape(r['vulnerabilityId'])}</td><td>{r['severity']}</td>"
        f"<td>{html.escape(str(r['title']))}</td><td>{html.escape(str(r['description']))}</td>"
        f"<td>{html.escape(', '.join(p['name'] + ' ' + p['installed'] for p in r['packages']))}</td>"
        f"<td>{r['kev']}</td><td>{r['epss']}</td><td>{', '.join(r['matchedRules'])}</td></tr>\n"
        for r in rows)
    (out / "report.html").write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>gate</title>"
                                     f"</head><body><h1>{verdict}</h1><table>\n{cells}</table></body></html>\n")
    sys.stdout.write("".join(f"{r['key']} {r['decision']}\n" for r in rows))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
