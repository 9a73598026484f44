#!/usr/bin/env python3
"""Rebuild packetpivot's capture-to-sessions golden responses with maltego-trx's own API.

For each capture in CAPTURES, this reads packetpivot's actual response (the insta snapshot
tests/snapshots/golden__capture_to_sessions__<capture>.snap written by tests/golden.rs),
turns it into a description of the entities (type, value, weight, fields with name / display
name / matching rule / value, link label / colour / thickness / style / show-label /
direction, bookmark, note, display information, overlays, icon URL, UI messages), rebuilds
the same entities with maltego-trx 1.7.0 (MaltegoTransform, addEntity, addProperty,
setLinkLabel, setLinkColor, setLinkThickness, setLinkStyle, addDisplayInformation,
addUIMessage, ...) and writes what maltego-trx emits (returnOutput()) to
tests/data/maltego/golden/<capture>.trx.xml. tests/golden.rs compares the two semantically
(shared/design/maltego.md 13.3).

Run from the repository root (nothing is installed in the repository):

    INSTA_UPDATE=always cargo test --test golden        # (re)write the snapshots first
    python3 -m venv /tmp/trx
    /tmp/trx/bin/pip install maltego-trx==1.7.0
    /tmp/trx/bin/python scripts/make_trx_golden.py      # writes tests/data/maltego/golden/
    /tmp/trx/bin/python scripts/make_trx_golden.py --dump-json   # also prints the descriptions

The output is deterministic: the same snapshots give byte-identical files.

Reserved fields (section 6 of maltego.md) are not copied as properties: they become the trx
helper calls that write them, so trx chooses their display names and matching rules. The
helpers are called in the order transforms/entities.rs sets the link (label, colour,
thickness, style), then show-label, direction, custom link properties, bookmark, note;
maltego-trx writes them in call order after the ordinary properties. trx has no helper for
`link#maltego.link.show-label` nor for a direction other than output-to-input: those go
through addCustomLinkProperty with packetpivot's display name, the only way trx can write
them (none occurs in the current snapshots).
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

import maltego_trx
from maltego_trx.maltego import MaltegoTransform
from maltego_trx.overlays import OverlayPosition, OverlayType

CAPTURES = [
    "zeek__wikipedia.pcap",
    "wireshark__many_interfaces.pcapng.1",
    "pcapfix__test_damaged.pcap",
]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAPSHOTS = os.path.join(ROOT, "tests", "snapshots")
OUT = os.path.join(ROOT, "tests", "data", "maltego", "golden")

LINK_FIELDS = {
    "link#maltego.link.label": "label",
    "link#maltego.link.color": "color",
    "link#maltego.link.thickness": "thickness",
    "link#maltego.link.style": "style",
    "link#maltego.link.show-label": "show_label",
    "link#maltego.link.direction": "direction",
}


def snapshot_xml(capture):
    """The XML body of an insta snapshot (after its `---` metadata header)."""
    path = os.path.join(SNAPSHOTS, f"golden__capture_to_sessions__{capture}.snap")
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    if not text.startswith("---\n"):
        raise SystemExit(f"{path}: not an insta snapshot")
    end = text.index("\n---\n", 3)
    return text[end + len("\n---\n"):].rstrip("\n")


def text(el):
    """An element's text ("" when empty), None when the element is absent."""
    return None if el is None else (el.text or "")


def describe(xml):
    """packetpivot's response as a JSON-able description of entities and UI messages."""
    root = ET.fromstring(xml)
    resp = root.find("MaltegoTransformResponseMessage")
    if resp is None:
        raise SystemExit("not a MaltegoTransformResponseMessage")
    entities = []
    for e in resp.find("Entities"):
        d = {
            "type": e.get("Type"),
            "value": text(e.find("Value")),
            "weight": int(text(e.find("Weight")) or 100),
            "display_information": [
                {"title": lab.get("Name"), "content": lab.text or ""}
                for lab in e.findall("DisplayInformation/Label")
            ],
            "fields": [],
            "link": {},
            "link_properties": [],
            "bookmark": None,
            "note": None,
            "overlays": [
                {"property_name": o.get("propertyName"), "position": o.get("position"),
                 "type": o.get("type")}
                for o in e.findall("Overlays/Overlay")
            ],
            "icon_url": text(e.find("IconURL")),
        }
        for f in e.findall("AdditionalFields/Field"):
            name, value = f.get("Name"), f.text or ""
            if name in LINK_FIELDS:
                d["link"][LINK_FIELDS[name]] = {"value": value, "display_name": f.get("DisplayName")}
            elif name.startswith("link#"):
                d["link_properties"].append(
                    {"name": name[len("link#"):], "display_name": f.get("DisplayName"), "value": value})
            elif name == "bookmark#":
                d["bookmark"] = value
            elif name == "notes#":
                d["note"] = value
            else:
                d["fields"].append({"name": name, "display_name": f.get("DisplayName"),
                                    "matching_rule": f.get("MatchingRule"), "value": value})
        entities.append(d)
    messages = [{"type": m.get("MessageType"), "text": m.text or ""}
                for m in resp.findall("UIMessages/UIMessage")]
    return {"entities": entities, "ui_messages": messages}


POSITIONS = {p.value: p for p in OverlayPosition}
TYPES = {t.value: t for t in OverlayType}


def build(desc):
    """The same entities and messages, built with maltego-trx's API."""
    r = MaltegoTransform()
    for d in desc["entities"]:
        e = r.addEntity(d["type"], d["value"])
        e.setWeight(d["weight"])  # trx ignores 0 (writes 100): a difference the test would show
        for di in d["display_information"]:
            e.addDisplayInformation(di["content"], di["title"])
        for f in d["fields"]:
            e.addProperty(f["name"], f["display_name"], f["matching_rule"], f["value"])
        link = d["link"]
        if "label" in link:
            e.setLinkLabel(link["label"]["value"])
        if "color" in link:
            e.setLinkColor(link["color"]["value"])
        if "thickness" in link:
            e.setLinkThickness(link["thickness"]["value"])
        if "style" in link:
            e.setLinkStyle(link["style"]["value"])
        if "show_label" in link:  # no trx helper
            e.addCustomLinkProperty("maltego.link.show-label", link["show_label"]["display_name"],
                                    link["show_label"]["value"])
        if "direction" in link:
            if link["direction"]["value"] == "output-to-input":
                e.reverseLink()
            else:  # no trx helper
                e.addCustomLinkProperty("maltego.link.direction", link["direction"]["display_name"],
                                        link["direction"]["value"])
        for p in d["link_properties"]:
            e.addCustomLinkProperty(p["name"], p["display_name"], p["value"])
        if d["bookmark"] is not None:
            e.setBookmark(d["bookmark"])
        if d["note"] is not None:
            e.setNote(d["note"])
        for o in d["overlays"]:
            e.addOverlay(o["property_name"], POSITIONS[o["position"]], TYPES[o["type"]])
        if d["icon_url"] is not None:
            e.setIconURL(d["icon_url"])
    for m in desc["ui_messages"]:
        r.addUIMessage(m["text"], m["type"])
    return r.returnOutput()


def main():
    if maltego_trx.VERSION != "1.7.0":
        raise SystemExit(f"maltego-trx 1.7.0 needed, found {maltego_trx.VERSION}")
    dump = "--dump-json" in sys.argv[1:]
    os.makedirs(OUT, exist_ok=True)
    for capture in CAPTURES:
        desc = describe(snapshot_xml(capture))
        if dump:
            print(json.dumps({"capture": capture, **desc}, ensure_ascii=False, indent=2))
        out = build(desc)
        path = os.path.join(OUT, f"{capture}.trx.xml")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(out)
        print(f"wrote {os.path.relpath(path, ROOT)} ({len(desc['entities'])} entities, "
              f"{len(out.encode('utf-8'))} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
