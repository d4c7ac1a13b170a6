"""Batch audits: a plan of many audits (plan.py) run on a local process pool or a Dask cluster
(run.py), written atomically (outdir.py), compared in OUT/index.html, index.xlsx and batch.json
(index.py)."""
