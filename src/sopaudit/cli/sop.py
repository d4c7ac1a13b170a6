"""`sopaudit sop ...`: check, show, draw and export SOP reference models."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.core.errors import SopAuditError, SopError


@click.group("sop")
def sop_group() -> None:
    """Check, show, draw and export SOP reference models (YAML tables, BPMN, PNML)."""


@sop_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Check SOP files; print every problem of each (file:line:column and the fix). Exit code 2
    when any file is invalid."""
    from sopaudit.sop import compile_sop, load_sop

    bad = 0
    for path in files:
        try:
            sop = load_sop(path)
            net = compile_sop(sop)
        except SopError as exc:
            bad += 1
            click.echo(f"INVALID {path}: {len(exc.problems)} problem(s)")
            for p in exc.problems:
                click.echo(f"  {p}")
            continue
        except SopAuditError as exc:
            bad += 1
            click.echo(f"INVALID {path}: {exc}")
            continue
        kind = "flow" if sop.flow is not None else "net"
        silent = sum(1 for t in net.net.transitions if t.label is None)
        click.echo(f"ok      {path}: {sop.header.code} - {len(sop.steps)} steps, {len(sop.roles)} roles, "
                   f"{kind} of {len(net.net.transitions) - silent} step and {silent} silent transitions")
    if bad:
        click.echo(f"{bad} of {len(files)} file(s) invalid", err=True)
        sys.exit(2)


@sop_group.command("show")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--width", type=int, default=None, help="Table width in characters (default: the terminal's).")
@user_errors
def show(file: Path, width: int | None) -> None:
    """Print the SOP as its SOP AP table: No, Kegiatan, Pelaksana, Kelengkapan, Waktu, Output,
    Keterangan."""
    from sopaudit.sop import load_sop
    from sopaudit.sop.table import format_table, header_lines, sop_rows

    sop = load_sop(file)
    width = width or max(shutil.get_terminal_size((120, 40)).columns, 60)
    for line in header_lines(sop):
        click.echo(line)
    click.echo("")
    click.echo(format_table(sop_rows(sop), width))
    if any(s.time.inferred for s in sop.steps):
        click.echo("* waktu diperkirakan (inferred): tidak tercantum dalam teks SOP")


@sop_group.command("draw")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="OUT.svg or OUT.png")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True,
              help="Language of the flowchart's own words (start, end, yes/no).")
@user_errors
def draw(file: Path, out: Path, lang: str = "id") -> None:
    """Draw the SOP as an SOP AP flowchart (SVG or PNG, by the suffix of OUT)."""
    from sopaudit.core.outdir import check_out_file, staged_files
    from sopaudit.sop import load_sop
    from sopaudit.sop.draw import draw_sop

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise SopAuditError(f"{out}: the drawing is written as .svg or .png; name the output file so")
    check_out_file(out, [file])
    sop = load_sop(file)
    if sop.flow is None:
        raise SopError(str(file), [f"{file}: an imported BPMN/PNML model has no SOP flow to draw; "
                                   "open it in its modelling tool"])
    with staged_files(out, inputs=[file]) as (tmp,):
        draw_sop(sop, tmp, fmt, lang=lang)
    click.echo(f"wrote {out}")


@sop_group.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--to", "to", required=True, type=click.Choice(["bpmn", "pnml", "xlsx", "docx"]),
              help="Target format: BPMN or PNML for modelling tools, xlsx or docx for the SOP AP table.")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="Output file.")
@user_errors
def export(file: Path, to: str, out: Path) -> None:
    """Export an SOP to BPMN 2.0 (with diagram layout, opens in bpmn.io), to PNML, or as its SOP AP
    table in Excel or Word (which `sopaudit sop import` reads back)."""
    from sopaudit.core.outdir import check_out_file, staged_files
    from sopaudit.sop import compile_sop, load_sop
    from sopaudit.sop.bpmn_write import write_bpmn
    from sopaudit.sop.pnml import write_pnml

    check_out_file(out, [file])
    sop = load_sop(file)
    if to in ("xlsx", "docx"):
        from sopaudit.sop.ap_write import write_docx, write_xlsx

        with staged_files(out, inputs=[file]) as (tmp,):
            (write_xlsx if to == "xlsx" else write_docx)(sop, tmp)
        click.echo(f"wrote {out}")
        return
    if to == "bpmn":
        if sop.flow is None:
            raise SopError(str(file), [f"{file}: an imported model has no SOP flow to export as BPMN; "
                                       "export it to PNML, or write the SOP as a YAML table"])
        text = write_bpmn(sop)
    else:
        text = write_pnml(compile_sop(sop), sop.header.code or file.stem)
    with staged_files(out, inputs=[file]) as (tmp,):
        tmp.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


@sop_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="The SOP YAML file to write.")
@click.option("--sheet", default=None, help="The sheet holding the SOP AP table (xlsx; default: the first that has one).")
@click.option("--table", type=int, default=None, help="The table holding the SOP AP table (docx, counted from 1).")
@click.option("--strict", is_flag=True, help="Stop when the import would have to guess anything.")
@user_errors
def import_command(file: Path, out: Path, sheet: str | None, table: int | None, strict: bool) -> None:
    """Read the SOP AP table of an .xlsx or .docx file (Permenpan-RB 35/2012) into a validated SOP
    YAML file; list everything that had to be guessed."""
    from sopaudit.core.outdir import check_out_file, staged_files
    from sopaudit.sop.ap_read import import_sop

    check_out_file(out, [file])  # before the read: never over the input, never a bad place
    imported = import_sop(file, sheet=sheet, table=table, strict=strict)
    with staged_files(out, inputs=[file]) as (tmp,):
        tmp.write_text(imported.yaml, encoding="utf-8")
    sop = imported.sop
    click.echo(f"wrote {out}: {sop.header.code} - {len(sop.steps)} steps, {len(sop.roles)} roles")
    for g in imported.guesses:
        click.echo(f"guess: {g}")
