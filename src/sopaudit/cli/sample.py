"""`sopaudit sample`: draw a verification sample of an audit as a worksheet, or read a filled one."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.core.errors import SopAuditError


@click.command("sample")
@click.argument("audit_dir", required=False, type=click.Path(path_type=Path))
@click.option("--size", type=int, default=None, help="Findings to draw in all (or per stratum with --per-kind).")
@click.option("--per-kind", is_flag=True, help="Draw --size findings from every kind (stratum) instead of in all.")
@click.option("--by", "by", multiple=True, type=click.Choice(["step", "officer"]),
              help="Stratify the findings further by step and/or officer (repeatable).")
@click.option("--conforming", type=int, default=None,
              help="Conforming cases to draw, to estimate missed deviations (default: --size).")
@click.option("--seed", type=int, default=None, help="Random seed (default: a fresh one, written into the worksheet).")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True, help="Worksheet language.")
@click.option("--log", "log_path", type=click.Path(path_type=Path), default=None,
              help="The audited event log, to list every event of each sampled case (with the audit's mapping).")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path), default=None, help="Mapping YAML of --log.")
@click.option("--case", default=None, help="Case column of --log.")
@click.option("--activity", default=None, help="Activity column of --log.")
@click.option("--time", "time_col", default=None, help="Time column of --log.")
@click.option("--resource", default=None, help="Officer column of --log.")
@click.option("--tz", default=None, help="Time zone of naive times in --log.")
@click.option("-o", "--out", type=click.Path(path_type=Path), default=None, help="Worksheet to write (.xlsx).")
@click.option("--read", "read_path", type=click.Path(path_type=Path), default=None,
              help="Read a filled worksheet back and estimate the confirmed shares.")
@click.option("--interval", type=click.Choice(["wilson", "clopper-pearson"]), default="wilson", show_default=True,
              help="Confidence interval of the shares.")
@click.option("--confidence", type=float, default=0.95, show_default=True)
@click.option("--precision", type=float, default=0.1, show_default=True,
              help="Half-width wanted, for the suggested sample sizes (0.1 = +/- 10 points).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="With --read: also write the estimates as JSON.")
@user_errors
def sample_command(audit_dir, size, per_kind, by, conforming, seed, lang, out, read_path, interval, confidence,
                   precision, json_path, log_path=None, mapping_file=None, case=None, activity=None, time_col=None,
                   resource=None, tz=None) -> None:
    """Draw a reproducible stratified random sample of the findings and conforming cases in
    AUDIT_DIR (the --out folder of `sopaudit audit`) as a worksheet for checking against the paper
    files; with --read, read the filled worksheet back (docs/verification.md)."""
    if read_path is not None:
        from sopaudit.verification.estimate import read_verification

        if not 0 < confidence < 1 or not 0 < precision < 1:
            raise SopAuditError("--confidence and --precision must be shares between 0 and 1 (e.g. 0.95, 0.1)")
        result = read_verification(read_path, method=interval, confidence=confidence, precision=precision)
        click.echo(result.to_text())
        if json_path is not None:
            from sopaudit.report.summary import records

            data = {"method": interval, "confidence": confidence, "precision": precision,
                    "kinds": records(result.table), "missed": result.missed}
            json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    if audit_dir is None or size is None or out is None:
        raise SopAuditError("give AUDIT_DIR, --size and -o worksheet.xlsx to draw a sample, "
                            "or --read worksheet.xlsx to read a filled one")
    from sopaudit.verification.sample import verification_sample

    log = None
    if log_path is not None:
        from sopaudit.ingest import read_log

        given = {"mapping": mapping_file, "case": case, "activity": activity, "time": time_col,
                 "resource": resource, "tz": tz}
        log = read_log(log_path, **{k: v for k, v in given.items() if v is not None})
    s = verification_sample(audit_dir, size, per_kind=per_kind, by=by, conforming=conforming, seed=seed, log=log)
    s.write(out, lang=lang)
    n_find = int((s.items["sample"] == "finding").sum())
    st = s.strata
    click.echo(f"sample     {n_find:,} of {int(st.loc[st['kind'] != 'conforming', 'population'].sum()):,} findings "
               f"in {int((st['kind'] != 'conforming').sum()):,} strata, "
               f"{len(s.items) - n_find:,} of {int(st.loc[st['kind'] == 'conforming', 'population'].sum()):,} "
               f"conforming cases   seed {s.seed}")
    click.echo(f"worksheet  {out}")
