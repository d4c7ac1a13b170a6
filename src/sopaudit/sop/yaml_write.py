"""An SOP written back as the project's YAML table format (docs/sop-format.md), e.g. after
importing an SOP AP table; `sop_from_yaml` of the text gives the same SOP."""

from __future__ import annotations

import yaml

from sopaudit.sop.model import (
    SOP,
    Choice,
    Duration,
    End,
    Loop,
    Node,
    Optional_,
    Parallel,
    Sequence,
    StepRef,
    TimeStandard,
)

_UNITS = {"minutes": "min", "hours": "hours", "working_days": "working days", "days": "days"}


def _duration(d: Duration) -> str:
    return f"{d.value:g} {_UNITS[d.unit]}"


def _time(t: TimeStandard) -> dict | None:
    out = {}
    if t.duration:
        out["duration"] = _duration(t.duration)
    if t.wait:
        out["wait"] = _duration(t.wait)
    if out and t.inferred:
        out["inferred"] = True
    return out or None


def _flow_list(node: Node) -> list:
    if isinstance(node, Sequence):
        return [_flow_item(n) for n in node.items]
    return [_flow_item(node)]


def _flow_item(node: Node):
    if isinstance(node, StepRef):
        return node.step
    if isinstance(node, End):
        return {"end": {"id": node.id, "name": node.name}} if node.name else {"end": node.id}
    if isinstance(node, Optional_):
        return {"optional": _flow_list(node.body)}
    if isinstance(node, Parallel):
        return {"parallel": [_flow_list(b) for b in node.branches]}
    if isinstance(node, Choice):
        body = {"question": node.question, "yes": _flow_list(node.yes), "no": _flow_list(node.no)}
        if node.id:
            body = {"id": node.id, **body}
        if node.condition is not None:
            c = node.condition
            body["condition"] = {"attribute": c.attribute, "not_in" if c.negate else "in": list(c.values)}
        return {"choice": body}
    if isinstance(node, Loop):
        body = {"body": _flow_list(node.body)}
        if node.id:
            body = {"id": node.id, **body}
        if node.redo is not None:
            body["redo"] = _flow_list(node.redo)
        body["question"] = node.question
        if node.exit != "yes":
            body["exit"] = node.exit
        return {"loop": body}
    raise TypeError(node)


def sop_document(sop: SOP) -> dict:
    """The SOP as the plain data of its YAML file."""
    h = sop.header
    header = {"code": h.code, "title": h.title}
    for key in ("unit", "service", "version", "approver", "notes"):
        if getattr(h, key):
            header[key] = getattr(h, key)
    for key in ("issued", "effective"):
        if getattr(h, key):
            header[key] = getattr(h, key).isoformat()
    if h.legal_basis:
        header["legal_basis"] = list(h.legal_basis)
    steps = []
    for s in sop.steps:
        step = {"id": s.id, "name": s.name}
        if len(s.roles) == 1:
            step["role"] = s.roles[0]
        elif s.roles:
            step["roles"] = list(s.roles)
        for key, value in (("aliases", list(s.aliases)), ("time", _time(s.time)), ("inputs", list(s.inputs)),
                           ("output", s.output), ("notes", s.notes)):
            if value:
                step[key] = value
        steps.append(step)
    doc = {"sop": header, "roles": [{"id": r.id, "name": r.name} for r in sop.roles], "steps": steps,
           "flow": _flow_list(sop.flow) if sop.flow is not None else []}
    if sop.service_standards:
        doc["service_standard"] = [_service(ss) for ss in sop.service_standards]
    if sop.rules:
        doc["rules"] = [{k: v for k, v in (("id", r.id), ("kind", r.kind), ("steps", list(r.steps)),
                                            ("count", r.count), ("description", r.description)) if v not in ("", None)}
                        for r in sop.rules]
    return doc


def _service(ss) -> dict:
    out = {"from": ss.from_step, "to": ss.to_step, "limit": _duration(ss.limit)}
    if ss.start_at != "end":
        out["start_at"] = ss.start_at
    if ss.attribute:
        out["attribute"] = ss.attribute
        out["per_value"] = {v: _duration(d) for v, d in ss.per_value}
    if ss.pauses:
        out["pauses"] = [{"from": a, "to": b} for a, b in ss.pauses]
    return out


def to_yaml(sop: SOP, comments: list[str] = ()) -> str:
    """The YAML text of an SOP, with `comments` (e.g. what an import had to guess) on top."""
    head = "".join(f"# {line}\n" for c in comments for line in c.splitlines())
    body = yaml.safe_dump(sop_document(sop), allow_unicode=True, sort_keys=False, width=100, default_flow_style=None)
    return head + body
