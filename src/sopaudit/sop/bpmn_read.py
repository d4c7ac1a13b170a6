"""Read a BPMN 2.0 process (bpmn.io, Camunda Modeler, Signavio and other tools) into a Petri net.

The translation is the usual one (Dijkman, Dumas and Ouyang 2008): every sequence flow is a
place, every task a transition labelled with the step, gateways and events silent transitions.

- tasks of any type and call activities are steps; a task with several incoming flows merges
  them (exclusive), one with several outgoing flows starts them all (parallel); a loop or
  multi-instance marker means "done one or more times";
- exclusive and event-based gateways choose one outgoing flow, parallel gateways split and join,
  inclusive gateways start any non-empty subset of their branches and the inclusive gateway where
  those branches meet waits for exactly the started ones (the branches must meet again at one
  inclusive gateway: the split's immediate post-dominator);
- start, intermediate and end events are silent; each end event is a legitimate end of the
  service (`end:<name>`); link events connect like off-page connectors; an interrupting
  boundary event on a task is an alternative to doing the task;
- sub-processes (expanded or collapsed) are entered at their start event and left when they
  reach an end event; a sub-process without content is a single step.

Conditions on flows cannot be evaluated and are read as free choices. Constructs without a
faithful translation (complex gateways, ad-hoc and event sub-processes, non-interrupting or
sub-process boundary events, compensation) raise an error naming the element id.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET

from sopaudit.core.errors import SopError
from sopaudit.ingest.xmlsafe import check_xml
from sopaudit.sop.compile import END_PREFIX, CompiledNet
from sopaudit.sop.netcheck import final_reachable
from sopaudit.sop.petri import Marking, PetriNet

logger = logging.getLogger(__name__)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SOPAUDIT_NS = "urn:sopaudit:bpmn"

TASKS = {"task", "userTask", "serviceTask", "manualTask", "scriptTask", "businessRuleTask", "sendTask",
         "receiveTask", "callActivity"}
SUBPROCESSES = {"subProcess", "transaction"}
GATEWAYS = {"exclusiveGateway": "xor", "eventBasedGateway": "xor", "parallelGateway": "and",
            "inclusiveGateway": "or"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
UNSUPPORTED = {
    "complexGateway": "a complex gateway has no fixed rule for which branches run; use exclusive, "
                      "parallel or inclusive gateways",
    "adHocSubProcess": "an ad-hoc sub-process has no order; model its steps with gateways, or list "
                       "them in a parallel block",
    "choreographyTask": "choreographies are not processes; export the process of one participant",
    "subChoreography": "choreographies are not processes; export the process of one participant",
    "callChoreography": "choreographies are not processes; export the process of one participant",
}
# Elements that carry no control flow (data, annotations, lanes, references).
IGNORED = {"sequenceFlow", "laneSet", "lane", "dataObject", "dataObjectReference", "dataStoreReference",
           "textAnnotation", "association", "group", "documentation", "extensionElements",
           "ioSpecification", "property", "dataInputAssociation", "dataOutputAssociation", "incoming",
           "outgoing", "category", "auditing", "monitoring", "resourceRole", "performer",
           "humanPerformer", "potentialOwner", "correlationSubscription", "dataInput", "dataOutput",
           "inputSet", "outputSet", "standardLoopCharacteristics", "multiInstanceLoopCharacteristics",
           "conditionExpression", "messageEventDefinition", "timerEventDefinition"}
MAX_INCLUSIVE_BRANCHES = 6


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(tag) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _name(el) -> str:
    return " ".join((el.get("name") or "").split())


def _sopaudit(el, attr: str) -> str:
    return (el.get(f"{{{SOPAUDIT_NS}}}{attr}") or "").strip()


@dataclass
class _Node:
    id: str
    kind: str
    el: object
    scope: _Scope
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    inner: _Scope | None = None  # sub-process content


@dataclass
class _Scope:
    owner: str  # process or sub-process id
    nodes: dict[str, _Node] = field(default_factory=dict)
    flows: dict[str, tuple[str, str, object]] = field(default_factory=dict)


@dataclass(frozen=True)
class BpmnStep:
    """A step found in the diagram: its label (step id), display name and lanes (roles)."""

    id: str
    name: str
    roles: tuple[str, ...] = ()
    documentation: str = ""


@dataclass(frozen=True)
class BpmnModel:
    net: CompiledNet
    name: str
    steps: tuple[BpmnStep, ...]
    roles: tuple[tuple[str, str], ...]  # (role id, role name) from lanes


class _Reader:
    def __init__(self, path: str):
        self.path = path
        self.problems: list[str] = []
        self.all_ids: dict[str, _Node] = {}
        self.unsupported: set[str] = set()  # reported once; flows to them are not errors again

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.path}: {message}")

    def scope(self, container, owner: str) -> _Scope:
        scope = _Scope(owner)
        for el in container:
            kind = _local(el.tag)
            if _ns(el.tag) not in ("", BPMN_NS):
                continue  # another tool's extension element
            eid = el.get("id") or ""
            if kind == "sequenceFlow":
                scope.flows[eid] = (el.get("sourceRef") or "", el.get("targetRef") or "", el)
                continue
            if kind in UNSUPPORTED:
                self.unsupported.add(eid)
                self.fail(f"element '{eid}' ({kind}{_quoted(el)}) is not supported: {UNSUPPORTED[kind]}")
                continue
            if kind in TASKS or kind in SUBPROCESSES or kind in GATEWAYS or kind in EVENTS:
                if not eid:
                    self.fail(f"a {kind}{_quoted(el)} has no id; save the diagram again from the modelling tool")
                    continue
                node = _Node(eid, kind, el, scope)
                if eid in self.all_ids:
                    self.fail(f"the id '{eid}' is used twice; ids must be unique")
                self.all_ids[eid] = node
                scope.nodes[eid] = node
                if kind in SUBPROCESSES:
                    if el.get("triggeredByEvent") == "true":
                        self.fail(f"element '{eid}' (event sub-process{_quoted(el)}) is not supported: it can "
                                  "interrupt the process at any time; model its trigger as a decision instead")
                    elif any(_local(c.tag) in TASKS | SUBPROCESSES | GATEWAYS.keys() | EVENTS for c in el):
                        node.inner = self.scope(el, eid)
                if el.get("isForCompensation") == "true":
                    self.fail(f"element '{eid}' ({kind}{_quoted(el)}) is a compensation activity, which is "
                              "not supported; model the compensation as normal steps after a decision")
            elif kind not in IGNORED:
                logger.debug("%s: ignoring BPMN element %s %s", self.path, kind, eid)
        for fid, (src, dst, _el) in scope.flows.items():
            for end, ref in (("sourceRef", src), ("targetRef", dst)):
                if ref not in scope.nodes and ref not in self.unsupported:
                    where = "is not in the same (sub-)process" if ref in self.all_ids else "does not exist"
                    if ref in self.all_ids or ref:
                        self.fail(f"sequence flow '{fid}' has {end} '{ref}', which {where}")
                    else:
                        self.fail(f"sequence flow '{fid}' has no {end}")
            if src in scope.nodes and dst in scope.nodes:
                scope.nodes[src].outgoing.append(fid)
                scope.nodes[dst].incoming.append(fid)
        return scope


def _quoted(el) -> str:
    name = _name(el)
    return f" '{name}'" if name else ""


def _slug(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9]+", "_", text.lower()).strip("_")
    return s if s and re.match(r"[A-Za-z_]", s) else f"r_{s}"


class _NetBuilder:
    def __init__(self, reader: _Reader, name: str):
        self.r = reader
        self.net = PetriNet(name)
        self.n = 0
        self.flow_place: dict[str, PetriNet.Place] = {}
        self.pin: dict[str, PetriNet.Place | None] = {}
        self.links: dict[tuple[str, str], PetriNet.Place] = {}
        self.link_ends: dict[tuple[str, str], dict[str, list[str]]] = {}  # -> {"throw": ids, "catch": ids}
        self.labels: dict[str, str] = {}  # task id -> label
        self.used_names: set[str] = set()

    def place(self, name: str) -> PetriNet.Place:
        self.n += 1
        p = PetriNet.Place(f"{name}#{self.n}")
        self.net.places.add(p)
        return p

    def trans(self, name: str, label: str | None, src: list, dst: list) -> PetriNet.Transition:
        self.n += 1
        t = PetriNet.Transition(f"{name}#{self.n}", label)
        self.net.transitions.add(t)
        for p in src:
            self.net.add_arc(p, t)
        for p in dst:
            self.net.add_arc(t, p)
        return t

    # --- per scope ------------------------------------------------------------------------

    def build(self, scope: _Scope, entry: PetriNet.Place, exit_: PetriNet.Place, top: bool) -> None:
        for fid in scope.flows:
            self.flow_place[fid] = self.place(f"flow:{fid}")
        starts = [n for n in scope.nodes.values() if n.kind == "startEvent"]
        what = "the process" if top else f"sub-process '{scope.owner}'"
        if not starts:
            self.r.fail(f"{what} has no start event; add one where the service begins")
        for s in starts:
            if s.incoming:
                self.r.fail(f"start event '{s.id}' has incoming sequence flows; a start event can only begin the flow")
            if not s.outgoing:
                self.r.fail(f"start event '{s.id}' has no outgoing sequence flow; connect it to the first step")
            self.trans(f"start:{s.id}", None, [entry], self.outs(s))
        for node in scope.nodes.values():
            if node.kind != "startEvent" and node.kind != "boundaryEvent" and not node.incoming \
                    and not self._link_catch(node):
                self.r.fail(f"element '{node.id}' ({node.kind}{_quoted(node.el)}) has no incoming sequence "
                            "flow, so it can never run; connect it or delete it")
        self._inclusive_pairs(scope)
        for node in scope.nodes.values():
            if node.kind in TASKS or node.kind in SUBPROCESSES:
                self._activity(node, exit_, top)
            elif node.kind in GATEWAYS:
                self._gateway(node)
            elif node.kind == "endEvent":
                pin = self.merged_in(node)
                if pin is not None:
                    name = _sopaudit(node.el, "end") or _name(node.el) or node.id
                    name = name.replace("#", "_")
                    self.trans(f"{END_PREFIX}{name}" if top else f"subend:{node.id}", None, [pin], [exit_])
                if node.outgoing:
                    self.r.fail(f"end event '{node.id}' has outgoing sequence flows; an end event ends the flow")
            elif node.kind in ("intermediateCatchEvent", "intermediateThrowEvent"):
                self._intermediate(node, exit_, top)
        for node in scope.nodes.values():
            if node.kind == "boundaryEvent":
                self._boundary(node, scope)

    def outs(self, node: _Node) -> list[PetriNet.Place]:
        return [self.flow_place[f] for f in node.outgoing]

    def merged_in(self, node: _Node) -> PetriNet.Place | None:
        """One place holding the token of any incoming flow (an exclusive merge)."""
        if node.id in self.pin:
            return self.pin[node.id]
        ins = [self.flow_place[f] for f in node.incoming]
        link = self._link_catch(node)
        if link is not None:
            ins.append(link)
        if not ins:
            place = None
        elif len(ins) == 1:
            place = ins[0]
        else:
            place = self.place(f"in:{node.id}")
            for p in ins:
                self.trans(f"merge:{node.id}", None, [p], [place])
        self.pin[node.id] = place
        return place

    def _after(self, node: _Node, exit_: PetriNet.Place, top: bool) -> list[PetriNet.Place]:
        """Where a step or event puts its token: all outgoing flows, or (no outgoing flow: an
        implicit end) the end of its (sub-)process."""
        if node.outgoing:
            for f in node.outgoing:
                cond = [c for c in node.scope.flows[f][2] if _local(c.tag) == "conditionExpression"]
                if cond:
                    self.r.fail(f"sequence flow '{f}' leaving '{node.id}' has a condition; conditional flows "
                                "are supported only after a gateway: put an exclusive or inclusive gateway "
                                "after the element")
            return self.outs(node)
        end = self.place(f"implicit-end:{node.id}")
        name = (_name(node.el) or node.id).replace("#", "_")
        self.trans(f"{END_PREFIX}{name}" if top else f"subend:{node.id}", None, [end], [exit_])
        return [end]

    def _looped(self, node: _Node) -> bool:
        return any(_local(c.tag) in ("standardLoopCharacteristics", "multiInstanceLoopCharacteristics")
                   for c in node.el)

    def _activity(self, node: _Node, exit_: PetriNet.Place, top: bool) -> None:
        pin = self.merged_in(node)
        if pin is None:
            return
        after = self._after(node, exit_, top)
        looped = self._looped(node)
        start = pin
        # Without a loop marker the step leads straight to what follows; with one, a silent
        # choice after each round goes back or on.
        done = self.place(f"done:{node.id}") if looped else None
        if looped:
            start = self.place(f"round:{node.id}")
            self.trans(f"begin:{node.id}", None, [pin], [start])
        if node.inner is not None:
            enter, leave = self.place(f"enter:{node.id}"), self.place(f"leave:{node.id}")
            self.trans(f"enter:{node.id}", None, [start], [enter])
            self.build(node.inner, enter, leave, top=False)
            self.trans(f"leave:{node.id}", None, [leave], [done] if looped else after)
        else:
            label = _sopaudit(node.el, "step") or _name(node.el)
            if not label:
                label = node.id
                logger.warning("%s: %s '%s' has no name; its id is used as the step label", self.r.path,
                               node.kind, node.id)
            self.labels[node.id] = label
            self.trans(f"task:{node.id}", label, [start], [done] if looped else after)
        if looped:
            self.trans(f"again:{node.id}", None, [done], [start])
            self.trans(f"next:{node.id}", None, [done], after)

    def _intermediate(self, node: _Node, exit_: PetriNet.Place, top: bool) -> None:
        pin = self.merged_in(node)
        if pin is None:
            return
        link = self._link_name(node)
        if node.kind == "intermediateThrowEvent" and link is not None:
            self.trans(f"link:{node.id}", None, [pin], [self._link_place(node, link, "throw")])
            return
        self.trans(f"event:{node.id}", None, [pin], self._after(node, exit_, top))

    def _link_name(self, node: _Node) -> str | None:
        for c in node.el:
            if _local(c.tag) == "linkEventDefinition":
                return c.get("name") or _name(node.el) or ""
        return None

    def _link_catch(self, node: _Node) -> PetriNet.Place | None:
        if node.kind != "intermediateCatchEvent":
            return None
        link = self._link_name(node)
        if link is None:
            return None
        return self._link_place(node, link, "catch")

    def _link_place(self, node: _Node, link: str, side: str) -> PetriNet.Place:
        key = (node.scope.owner, link)
        if key not in self.links:
            self.links[key] = self.place(f"link:{link}")
            self.link_ends[key] = {"throw": [], "catch": []}
        if node.id not in self.link_ends[key][side]:
            self.link_ends[key][side].append(node.id)
        return self.links[key]

    def check_links(self) -> None:
        for (_, link), ends in sorted(self.link_ends.items()):
            for side, other in (("throw", "catch"), ("catch", "throw")):
                if ends[side] and not ends[other]:
                    verb = "throws to" if side == "throw" else "catches"
                    self.r.fail(f"link event '{ends[side][0]}' {verb} link '{link}', but no {other}ing link "
                                "event of that name is in the same (sub-)process")

    def _boundary(self, node: _Node, scope: _Scope) -> None:
        host_id = node.el.get("attachedToRef") or ""
        host = scope.nodes.get(host_id)
        if node.el.get("cancelActivity") == "false":
            self.r.fail(f"boundary event '{node.id}'{_quoted(node.el)} is non-interrupting, which is not "
                        "supported; model the extra path as a parallel branch")
            return
        if host is None or host.kind not in TASKS or host.inner is not None or self._looped(host):
            what = f"'{host_id}'" if host is not None else f"'{host_id}' (not found)"
            self.r.fail(f"boundary event '{node.id}'{_quoted(node.el)} is attached to {what}; boundary "
                        "events are supported only on tasks without loop markers: model the exception as "
                        "a decision after the step")
            return
        if node.incoming:
            self.r.fail(f"boundary event '{node.id}' has incoming sequence flows; remove them")
        pin = self.merged_in(host)
        if pin is not None:
            self.trans(f"boundary:{node.id}", None, [pin], self.outs(node))

    def _gateway(self, node: _Node) -> None:
        kind = GATEWAYS[node.kind]
        if not node.outgoing:
            self.r.fail(f"gateway '{node.id}' has no outgoing sequence flow; connect it to the next step "
                        "or an end event")
            return
        if kind == "and":
            ins = [self.flow_place[f] for f in node.incoming]
            if ins:
                self.trans(f"and:{node.id}", None, ins, self.outs(node))
            return
        if kind == "or" and (len(node.incoming) > 1 or len(node.outgoing) > 1):
            return  # built in _inclusive_pairs (a gateway with one way in and out is a plain pass)
        outs = self.outs(node)
        if len(outs) == 1:  # an exclusive merge: each incoming flow goes straight on
            for f in node.incoming:
                self.trans(f"xor:{node.id}", None, [self.flow_place[f]], outs)
            return
        pin = self.merged_in(node)
        if pin is not None:
            for out in outs:
                self.trans(f"xor:{node.id}", None, [pin], [out])

    # --- inclusive gateways -----------------------------------------------------------------

    def _inclusive_pairs(self, scope: _Scope) -> None:
        ors = [n for n in scope.nodes.values() if n.kind == "inclusiveGateway"]
        if not ors:
            return
        pdom = _post_dominators(scope)
        joined: dict[str, str] = {}
        mid: dict[str, PetriNet.Place] = {}
        for g in ors:
            if len(g.incoming) > 1:
                mid[g.id] = self.place(f"joined:{g.id}") if len(g.outgoing) != 1 else self.flow_place[g.outgoing[0]]
        for g in ors:
            if len(g.outgoing) <= 1:
                continue
            strict = pdom[g.id] - {g.id}
            join_id = next((d for d in strict if pdom[d] == strict), None)
            join = scope.nodes.get(join_id or "")
            if join is None or join.kind != "inclusiveGateway" or len(join.incoming) < 2:
                self.r.fail(f"inclusive gateway '{g.id}'{_quoted(g.el)} splits the flow, but its branches "
                            "do not all meet again at one inclusive gateway; join them with an inclusive "
                            "gateway, or use exclusive or parallel gateways")
                continue
            if join.id in joined:
                self.r.fail(f"inclusive gateway '{join.id}' joins the branches of two inclusive splits "
                            f"('{joined[join.id]}' and '{g.id}'); give each split its own join")
                continue
            joined[join.id] = g.id
            if len(g.outgoing) > MAX_INCLUSIVE_BRANCHES:
                self.r.fail(f"inclusive gateway '{g.id}' has {len(g.outgoing)} branches; at most "
                            f"{MAX_INCLUSIVE_BRANCHES} are supported")
                continue
            reach = [_reaching(scope, f, join) for f in g.outgoing]
            flat = [f for r in reach for f in r]
            if any(not r for r in reach) or len(flat) != len(set(flat)) or set(flat) != set(join.incoming):
                self.r.fail(f"the branches of inclusive gateway '{g.id}' are entangled (a branch ends, loops "
                            f"back or shares flows with another before the join '{join.id}'); make each "
                            "branch reach the join on its own")
                continue
            split_in = self._or_input(g, mid)
            if split_in is None:
                continue
            outs = self.outs(g)
            for mask in range(1, 2 ** len(outs)):
                chosen = [i for i in range(len(outs)) if mask >> i & 1]
                ctl = self.place(f"or:{g.id}:{mask}")
                self.trans(f"or-split:{g.id}", None, [split_in], [outs[i] for i in chosen] + [ctl])
                for combo in itertools.product(*(sorted(reach[i]) for i in chosen)):
                    self.trans(f"or-join:{join.id}", None, [ctl] + [self.flow_place[f] for f in combo],
                               [mid[join.id]])
        for g in ors:
            if len(g.incoming) > 1 and g.id not in joined:
                self.r.fail(f"inclusive gateway '{g.id}'{_quoted(g.el)} joins flows that no inclusive "
                            "gateway split; use an exclusive gateway to merge alternatives or a parallel "
                            "gateway to join parallel branches")

    def _or_input(self, g: _Node, mid: dict[str, PetriNet.Place]) -> PetriNet.Place | None:
        if len(g.incoming) > 1:
            return mid[g.id]
        return self.flow_place[g.incoming[0]] if g.incoming else None


def _successors(scope: _Scope) -> dict[str, list[str]]:
    succ = {nid: [scope.flows[f][1] for f in n.outgoing] for nid, n in scope.nodes.items()}
    for n in scope.nodes.values():
        if n.kind == "boundaryEvent":
            host = n.el.get("attachedToRef") or ""
            if host in succ:
                succ[host].append(n.id)
    return succ


def _post_dominators(scope: _Scope) -> dict[str, set[str]]:
    exit_ = "\0exit"
    succ = _successors(scope)
    for s in succ.values():
        if not s:
            s.append(exit_)
    every = set(succ) | {exit_}
    pdom = {nid: set(every) for nid in succ}
    pdom[exit_] = {exit_}
    changed = True
    while changed:
        changed = False
        for nid in sorted(succ):
            new = {nid} | set.intersection(*(pdom[s] for s in succ[nid]))
            if new != pdom[nid]:
                pdom[nid] = new
                changed = True
    return pdom


def _reaching(scope: _Scope, flow: str, join: _Node) -> set[str]:
    """Incoming flows of `join` reachable from `flow` without passing through `join`."""
    found, seen = set(), set()
    stack = [flow]
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        target = scope.flows[f][1]
        if target == join.id:
            found.add(f)
            continue
        node = scope.nodes.get(target)
        if node is not None:
            stack.extend(node.outgoing)
    return found


def _lanes(process_el) -> dict[str, str]:
    """Flow node id -> lane name (the innermost lane listing it)."""
    out: dict[str, str] = {}

    def visit(lane_set):
        for lane in lane_set:
            if _local(lane.tag) != "lane":
                continue
            name = _name(lane) or lane.get("id") or ""
            for ref in lane:
                if _local(ref.tag) == "flowNodeRef" and ref.text:
                    out[ref.text.strip()] = name
            for child in lane:
                if _local(child.tag) == "childLaneSet":
                    visit(child)

    for child in process_el:
        if _local(child.tag) == "laneSet":
            visit(child)
    return out


def read_bpmn(path: str | Path) -> BpmnModel:
    """The Petri net, steps and lanes of the one process in a BPMN 2.0 file."""
    path = Path(path)
    where = str(path)
    check_xml(path)
    root = SafeET.parse(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True).getroot()
    if _local(root.tag) != "definitions" or _ns(root.tag) != BPMN_NS:
        raise SopError(where, [f"{where}: not a BPMN 2.0 file (the root element is not <definitions> in the "
                               f"namespace {BPMN_NS}); export the diagram as BPMN 2.0 XML"])
    processes = [p for p in root if _local(p.tag) == "process" and _ns(p.tag) == BPMN_NS]
    with_steps = [p for p in processes
                  if any(_local(c.tag) in TASKS | SUBPROCESSES | GATEWAYS.keys() | EVENTS for c in p)]
    if not with_steps:
        raise SopError(where, [f"{where}: the file has no process with steps or events"])
    if len(with_steps) > 1:
        names = ", ".join(f"'{p.get('id')}'" + (f" ({_name(p)})" if _name(p) else "") for p in with_steps)
        raise SopError(where, [f"{where}: the file holds {len(with_steps)} processes with steps ({names}); "
                               "sopaudit audits one process: keep one pool, or save each pool in its own file"])
    process = with_steps[0]
    participant = next((_name(p) for c in root if _local(c.tag) == "collaboration" for p in c
                        if _local(p.tag) == "participant" and p.get("processRef") == process.get("id")), "")
    name = _name(process) or participant or path.stem
    reader = _Reader(where)
    scope = reader.scope(process, process.get("id") or "process")
    builder = _NetBuilder(reader, name)
    source, sink = builder.place("source"), builder.place("sink")
    if not reader.problems:
        builder.build(scope, source, sink, top=True)
        builder.check_links()
    if reader.problems:
        raise SopError(where, sorted(set(reader.problems)))
    if not builder.labels:
        raise SopError(where, [f"{where}: the process has no tasks (no steps to audit)"])
    net = CompiledNet(builder.net, Marking({source: 1}), Marking({sink: 1}))
    if final_reachable(*net.as_tuple()) is False:
        raise SopError(where, [f"{where}: no run of this process reaches its end with nothing left running "
                               "(e.g. parallel branches that end in separate end events, or a join that waits "
                               "for a branch that never comes); join parallel branches with a parallel gateway "
                               "before one end event"])
    lanes = _lanes(process)

    def lane_of(node: _Node) -> str:
        # nodes inside a sub-process take the lane of the sub-process
        nid = node.id
        while nid not in lanes and nid in reader.all_ids and reader.all_ids[nid].scope.owner in reader.all_ids:
            nid = reader.all_ids[nid].scope.owner
        return lanes.get(nid, "")

    steps: dict[str, BpmnStep] = {}
    roles: dict[str, str] = {}
    for tid, label in sorted(builder.labels.items(), key=lambda kv: kv[1]):
        node = reader.all_ids[tid]
        own = tuple(r for r in _sopaudit(node.el, "roles").split() if r)
        lane = lane_of(node)
        if not own and lane:
            own = (_slug(lane),)
            roles.setdefault(_slug(lane), lane)
        for r in own:
            roles.setdefault(r, r)
        doc = "\n".join("".join(c.itertext()).strip() for c in node.el if _local(c.tag) == "documentation")
        prev = steps.get(label)
        merged = tuple(dict.fromkeys((prev.roles if prev else ()) + own))
        steps[label] = BpmnStep(label, prev.name if prev else (_name(node.el) or label), merged,
                                prev.documentation if prev else doc)
    return BpmnModel(net, name, tuple(steps.values()), tuple(sorted(roles.items())))
