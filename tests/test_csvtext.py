"""The vectorised writers' text: the same bytes as pandas' to_csv, times as isoformat writes them,
and simulated logs that read back as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sopaudit as sa
from sopaudit.ingest.csvtext import csv_chunks, iso_times

CASE, ACT, TIME, START, RES = "case:concept:name", "concept:name", "time:timestamp", "start_timestamp", "org:resource"


def written(df: pd.DataFrame, rows: int = 500_000) -> str:
    return b"".join(bytes(b) for b in csv_chunks(df, rows=rows)).decode()


def every_dtype() -> pd.DataFrame:
    tz = pd.date_range("2024-01-01 08:00", periods=6, freq="37min", tz="Asia/Jakarta")
    return pd.DataFrame({
        "cat": pd.Categorical(["a", "b,c", None, 'q"x', "line\nbreak", "a"]),
        "num_cat": pd.Categorical([1, 2, 3, 1, 2, None]),
        "s": pd.Series(["x", None, "y,z", "", " sp ", "é"], dtype="string"),
        "o": np.array(["x", "1", 'say "hi"', "z", "w", "v"], dtype=object),
        "i": [1, 2, 3, 4, 5, -6], "I": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        "f": [0.1, np.nan, 1e-05, 100.0, 1 / 3, 2.5e20], "b": [True, False, True, True, False, False],
        "t": tz, "t2": tz.tz_convert("Asia/Makassar").where([True, False, True, True, True, True]),
        "fraction": tz + pd.Timedelta("1.5s"), "naive": tz.tz_localize(None),
        "dates": pd.date_range("2024-01-01", periods=6), "hours": pd.to_timedelta(np.arange(6), unit="h"),
        "a,b": ["1", "2", "3", "4", "5", "6"],
        "mixed": np.array([(5,), 1, 1.0, True, None, "two\nlines"], dtype=object),
        "chunked": pd.concat([pd.Series(["a", "b,c", "d"], dtype="str"), pd.Series(["e", None, "g"], dtype="str")],
                             ignore_index=True),  # two Arrow chunks
        "cr": ["a\rb", "c\r\nd", "", "e", "f\r", "g"],  # '\r' quoted only where Python's csv module does
    })


@pytest.mark.parametrize("rows", [4, 500_000])
def test_csv_text_is_what_pandas_writes(rows):
    df = every_dtype()
    assert written(df, rows) == df.to_csv(index=False, lineterminator="\n")


def test_csv_text_of_one_column_and_of_no_rows():
    df = every_dtype()
    assert written(df[["s"]]) == df[["s"]].to_csv(index=False, lineterminator="\n")  # '""' for empty
    assert written(df.iloc[:0]) == df.iloc[:0].to_csv(index=False, lineterminator="\n")


def test_iso_times_as_isoformat_in_every_zone():
    rng = np.random.default_rng(2)
    # since 1970 (earlier, local mean times had offsets in seconds, which isoformat writes too)
    utc = pd.to_datetime(rng.integers(0, 4_000_000_000, 2000), unit="s", utc=True)
    for zone in ("Asia/Jakarta", "Asia/Kolkata", "America/St_Johns", "Europe/Amsterdam", "UTC"):
        values = pd.Series(utc.tz_convert(zone))
        values[5] = pd.NaT
        text = iso_times(values).to_pylist()
        assert text[5] is None
        assert [t for i, t in enumerate(text) if i != 5] == [v.isoformat(sep=" ") for i, v in enumerate(values) if i != 5]
    ms = pd.Series(pd.to_datetime(["2024-03-04 08:15:00.123456", "1969-12-31 23:59:59.999"]).tz_localize("Asia/Jayapura"))
    before = pd.Series(pd.to_datetime(rng.integers(-4_000_000_000, 0, 500), unit="s", utc=True))
    assert iso_times(before).to_pylist() == [v.isoformat(sep=" ") for v in before]
    assert iso_times(ms, sep="T", millis=True).to_pylist() == ["2024-03-04T08:15:00.123+09:00",
                                                               "1969-12-31T23:59:59.999+09:00"]


@pytest.fixture(scope="module")
def simulated():
    from sopaudit.simulation import default_scenario, simulate

    sop = sa.load_sop("reference_models/paspor_baru_mpaspor.yaml")
    log, _ = simulate(sop, 300, 8, default_scenario(sop).with_rates(unexpected=0.2))
    return log


def test_simulated_csv_bytes_and_read_back(simulated, tmp_path):
    from sopaudit.simulation import write_log

    path = write_log(simulated, tmp_path / "log.csv")
    # the reference: pandas' own text, times as Timestamp.isoformat
    times = {c: simulated[c].map(lambda t: t.isoformat(sep=" ")) for c in (TIME, START)}
    assert path.read_text() == simulated.assign(**times).to_csv(index=False, lineterminator="\n")
    back = sa.read_log(path)
    assert (back[TIME].to_numpy() == simulated[TIME].to_numpy()).all()
    assert (back[START].to_numpy() == simulated[START].to_numpy()).all()
    for col in (CASE, ACT, RES, "kantor", "jenis_layanan"):
        assert list(back[col].astype(str)) == list(simulated[col].astype(str)), col


def test_simulated_xes_reads_back_with_trace_attributes(simulated, tmp_path):
    from sopaudit.simulation import write_log

    log = simulated.copy()
    log[RES] = log[RES].cat.add_categories(["a & <b>"])
    log.loc[3, RES] = "a & <b>"
    log.loc[4, RES] = None  # a missing value: no attribute element
    text = write_log(log, tmp_path / "log.xes").read_text()
    assert text.count("<trace>") == text.count("</trace>") == 300
    assert '<string key="org:resource" value="a &amp; &lt;b&gt;"/>' in text
    # attributes with one value per case are trace attributes, on the case's first lines
    assert '  <trace>\n    <string key="concept:name" value="SIM000001"/>\n    <string key="jenis_layanan"' in text
    back = sa.read_log(tmp_path / "log.xes")
    assert len(back) == len(log) and (back[TIME].to_numpy() == log[TIME].to_numpy()).all()
    assert list(back[ACT].astype(str)) == list(log[ACT].astype(str))
    assert back[RES].astype(object).iloc[3] == "a & <b>" and pd.isna(back[RES].iloc[4])
    assert list(back["case:kantor"].astype(str)) == list(log["kantor"].astype(str))
