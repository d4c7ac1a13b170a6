"""Batch audits: a plan of many audits (plan.py) run on a local process pool or a Dask cluster
(run.py; one large log in case partitions: partition.py), written atomically (outdir.py),
compared in OUT/index.html, index.xlsx and batch.json (index.py); `run_batch` (driver.py) does
it all, as `sopaudit batch` does."""
