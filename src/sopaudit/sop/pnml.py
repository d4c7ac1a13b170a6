"""Read and write PNML Petri nets (place/transition nets, PNML 2009 core model as ProM and pm4py
write them), with silent transitions and explicit initial and final markings.

Reading is our own so that every problem names the element id, nested pages are flattened and
a missing marking is inferred only when the net leaves no doubt (one source or one sink place).
A transition is silent when ProM marks it `activity="$invisible$"` (or a stochastic net marks it
invisible), as pm4py reads it; a transition without a name takes its id as label, as in pm4py.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import defusedxml.ElementTree as SafeET

from sopaudit.core.errors import SopError
from sopaudit.ingest.xmlsafe import check_xml
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.petri import Marking, PetriNet

logger = logging.getLogger(__name__)

PNML_TYPE = "http://www.pnml.org/version-2009/grammar/pnmlcoremodel"
# pm4py names a net it did not name itself "imported_<time of reading>" and writes that name to
# PNML: it says nothing about the model and would differ on every export, so the file name is used.
_GENERATED_NAME = re.compile(r"imported_[0-9]+(\.[0-9]+)?")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el, name: str):
    return [c for c in el if _local(c.tag) == name]


def _text_of(el, name: str) -> str | None:
    """The <text> of the child `name` (e.g. <name><text>x</text></name>), or None."""
    for c in _children(el, name):
        for t in _children(c, "text"):
            return (t.text or "").strip()
    return None


def _int(text: str | None, what: str, path: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise SopError(path, [f"{path}: {what} is '{text}', not a whole number"]) from None
    if value < 0:
        raise SopError(path, [f"{path}: {what} is negative ({value})"])
    return value


def _invisible(tr) -> bool:
    for ts in _children(tr, "toolspecific"):
        tool = ts.get("tool") or ""
        if "ProM" in tool and "invisible" in (ts.get("activity") or ""):
            return True
        if "StochasticPetriNet" in tool:
            for prop in ts:
                if prop.get("key") == "invisible" and (prop.text or "").strip().lower() == "true":
                    return True
    return False


def _walk_pages(el):
    """Places, transitions and arcs of a net, nested pages flattened."""
    for child in el:
        name = _local(child.tag)
        if name == "page":
            yield from _walk_pages(child)
        else:
            yield name, child


def read_pnml(path: str | Path) -> tuple[CompiledNet, str]:
    """The net of a PNML file and its name. Raises SopError naming the element at fault."""
    path = Path(path)
    where = str(path)
    check_xml(path)
    root = SafeET.parse(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()
    nets = [root] if _local(root.tag) == "net" else [c for c in root if _local(c.tag) == "net"]
    if not nets:
        raise SopError(where, [f"{where}: no <net> element; this is not a PNML Petri net"])
    if len(nets) > 1:
        ids = ", ".join(n.get("id") or "?" for n in nets)
        raise SopError(where, [f"{where}: the file holds {len(nets)} nets ({ids}); keep the one net to audit against"])
    el = nets[0]
    name = next((n for n in (_text_of(el, "name"), el.get("id")) if n and not _GENERATED_NAME.fullmatch(n)), path.stem)
    net = PetriNet(name)
    nodes: dict[str, PetriNet.Place | PetriNet.Transition] = {}
    initial = Marking()
    problems: list[str] = []
    items = list(_walk_pages(el))

    def new_id(kind: str, node) -> str | None:
        nid = node.get("id")
        if not nid:
            problems.append(f"{where}: a <{kind}> has no id; every place, transition and arc needs one")
            return None
        if nid in nodes:
            problems.append(f"{where}: the id '{nid}' is used twice; ids must be unique")
            return None
        return nid

    silent_names: dict[str, list[str]] = {}
    for kind, node in items:
        if kind in ("referencePlace", "referenceTransition"):
            problems.append(f"{where}: {kind} '{node.get('id')}' (modular PNML) is not supported; "
                            "flatten the net in the modelling tool")
        elif kind == "place":
            pid = new_id(kind, node)
            if pid is None:
                continue
            place = PetriNet.Place(pid)
            net.places.add(place)
            nodes[pid] = place
            tokens = _text_of(node, "initialMarking")
            if tokens:
                k = _int(tokens, f"the initial marking of place '{pid}'", where)
                if k:
                    initial[place] = k
        elif kind == "transition":
            tid = new_id(kind, node)
            if tid is None:
                continue
            text = _text_of(node, "name")
            silent = _invisible(node)
            t = PetriNet.Transition(tid, None if silent else (text or tid))
            if silent and text:
                silent_names.setdefault(text, []).append(tid)
            net.transitions.add(t)
            nodes[tid] = t
    for kind, node in items:
        if kind != "arc":
            continue
        aid = node.get("id") or "?"
        src, dst = nodes.get(node.get("source") or ""), nodes.get(node.get("target") or "")
        for end, ref in (("source", src), ("target", dst)):
            if ref is None:
                problems.append(f"{where}: arc '{aid}' names {end} '{node.get(end)}', which is not a place "
                                "or transition of the net")
        if src is None or dst is None:
            continue
        if isinstance(src, PetriNet.Place) == isinstance(dst, PetriNet.Place):
            problems.append(f"{where}: arc '{aid}' joins two {'places' if isinstance(src, PetriNet.Place) else 'transitions'}; "
                            "an arc joins a place and a transition")
            continue
        arc_type = (_text_of(node, "arctype") or "normal").lower()
        for t in _children(node, "type"):
            arc_type = (t.get("value") or arc_type).lower()
        if arc_type != "normal":
            problems.append(f"{where}: arc '{aid}' is a {arc_type} arc; only normal arcs are supported")
            continue
        weight = _text_of(node, "inscription")
        net.add_arc(src, dst, _int(weight, f"the inscription of arc '{aid}'", where) if weight else 1)
    finals = []
    for fm_el in _children(el, "finalmarkings"):
        for marking_el in _children(fm_el, "marking"):
            m = Marking()
            for pl in _children(marking_el, "place"):
                ref = pl.get("idref")
                place = nodes.get(ref or "")
                if not isinstance(place, PetriNet.Place):
                    problems.append(f"{where}: the final marking names place '{ref}', which is not a place of the net")
                    continue
                tokens = next((c.text or "0" for c in _children(pl, "text")), "1")
                k = _int(tokens, f"the final marking of place '{ref}'", where)
                if k:
                    m[place] = k
            if m:
                finals.append(m)
    if problems:
        raise SopError(where, problems)
    # Silent transitions keep their written name when it is unique (e.g. "end:ditolak#30" in a
    # net sopaudit exported), so the audit can tell which legitimate end a case reached.
    renamed = {ids[0]: text for text, ids in silent_names.items() if len(ids) == 1 and text not in nodes}
    for t in net.transitions:
        if t.name in renamed:
            t.name = renamed[t.name]
    if not initial:
        initial = _infer(net, where, "initial", [p for p in net.places if not p.in_arcs])
    unique_finals = {tuple(sorted((p.name, k) for p, k in m.items())) for m in finals}
    if len(unique_finals) > 1:
        raise SopError(where, [f"{where}: the net declares {len(unique_finals)} different final markings; "
                               "sopaudit aligns against one, so keep the one every case should reach"])
    final = finals[0] if finals else _infer(net, where, "final", [p for p in net.places if not p.out_arcs])
    return CompiledNet(net, initial, final), name


def _infer(net: PetriNet, where: str, which: str, candidates: list) -> Marking:
    if len(candidates) == 1:
        logger.info("%s: no %s marking; using the only %s place '%s'", where, which,
                    "source" if which == "initial" else "sink", candidates[0].name)
        return Marking({candidates[0]: 1})
    names = ", ".join(sorted(str(p.name) for p in candidates)) or "none"
    kind = "without incoming arcs" if which == "initial" else "without outgoing arcs"
    raise SopError(where, [f"{where}: the net has no {which} marking and {len(candidates)} places {kind} "
                           f"({names}); set the {which} marking in the modelling tool and export again"])


def _xml_id(prefix: str, k: int) -> str:
    return f"{prefix}{k}"


def write_pnml(net: CompiledNet, name: str = "sop") -> str:
    """PNML text of a net, with silent transitions marked as ProM does and the final marking;
    ids are stable (sorted by name) so the same net gives the same bytes."""
    from xml.sax.saxutils import escape, quoteattr  # here: it imports urllib, http and ssl

    places = sorted(net.net.places, key=lambda p: str(p.name))
    transitions = sorted(net.net.transitions, key=lambda t: str(t.name))
    pid = {p: _xml_id("p", i + 1) for i, p in enumerate(places)}
    tid = {t: _xml_id("t", i + 1) for i, t in enumerate(transitions)}
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<pnml>",
           f'  <net id="net1" type="{PNML_TYPE}">', f"    <name><text>{escape(name)}</text></name>",
           '    <page id="page1">']
    for p in places:
        out.append(f'      <place id="{pid[p]}"><name><text>{escape(str(p.name))}</text></name>'
                   + (f"<initialMarking><text>{net.initial[p]}</text></initialMarking>" if net.initial.get(p) else "")
                   + "</place>")
    for t in transitions:
        if t.label is None:
            out.append(f'      <transition id="{tid[t]}"><name><text>{escape(str(t.name))}</text></name>'
                       f'<toolspecific tool="ProM" version="6.4" activity="$invisible$" '
                       f'localNodeID={quoteattr(tid[t])}/></transition>')
        else:
            out.append(f'      <transition id="{tid[t]}"><name><text>{escape(t.label)}</text></name></transition>')
    arcs = []
    for t in transitions:
        arcs += [(pid[a.source], tid[t], a.weight) for a in t.in_arcs]
        arcs += [(tid[t], pid[a.target], a.weight) for a in t.out_arcs]
    for k, (src, dst, w) in enumerate(sorted(arcs, key=lambda a: (int(a[0][1:]), a[0][0], int(a[1][1:]), a[1][0]))):
        inscription = f"<inscription><text>{w}</text></inscription>" if w != 1 else ""
        out.append(f'      <arc id="a{k + 1}" source="{src}" target="{dst}">{inscription}</arc>')
    out.append("    </page>")
    out.append("    <finalmarkings><marking>")
    for p in places:
        if net.final.get(p):
            out.append(f'      <place idref="{pid[p]}"><text>{net.final[p]}</text></place>')
    out += ["    </marking></finalmarkings>", "  </net>", "</pnml>", ""]
    return "\n".join(out)
