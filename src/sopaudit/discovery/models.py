"""Process models mined by pm4py from a log (Inductive and Heuristics Miner) and their quality
(token-based or alignment-based fitness and precision), run so that they never run away.

pm4py's miners and replay can take hours on a log with hundreds of activities or thousands of
variants. `mine_models` therefore declines a model when the log is beyond a size guard
(MAX_ACTIVITIES, MAX_VARIANTS) unless forced, and runs each model with its quality in a child
process that is stopped when it exceeds its time budget; either way the result says why a model
is missing, in words the command prints.
"""

from __future__ import annotations

import multiprocessing
import time
import warnings
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd

from sopaudit.core import progress
from sopaudit.discovery.mining import ACTIVITY, CASE, TIMESTAMP, pm4py_view

__all__ = ["DEFAULT_BUDGET_S", "MAX_ACTIVITIES", "MAX_VARIANTS", "MODELS", "heuristics_model", "inductive_model",
           "mine_models", "model_quality", "size_guard"]

MAX_ACTIVITIES = 100  # BPIC 2015 (398 activities) ran pm4py's miners and replay for over 20 minutes
MAX_VARIANTS = 10_000
DEFAULT_BUDGET_S = 30.0  # for all models, mining and quality together

HEURISTICS = {"dependency_threshold": 0.5, "and_threshold": 0.65, "loop_two_threshold": 0.5}
MODELS = ("inductive", "heuristics")

_PM4PY_KEYS = {"activity_key": ACTIVITY, "timestamp_key": TIMESTAMP, "case_id_key": CASE}


def inductive_model(log: pd.DataFrame, noise_threshold: float = 0.2) -> tuple[Any, Any, Any]:
    """Petri net ``(net, initial_marking, final_marking)`` found by pm4py's Inductive Miner
    (infrequent variant with this noise threshold): sound by construction, fits most cases."""
    import pm4py

    return pm4py.discover_petri_net_inductive(
        pm4py_view(log), noise_threshold=noise_threshold, **_PM4PY_KEYS
    )


def heuristics_model(
    log: pd.DataFrame,
    dependency_threshold: float = 0.5,
    and_threshold: float = 0.65,
    loop_two_threshold: float = 0.5,
) -> tuple[Any, Any, Any]:
    """Petri net ``(net, initial_marking, final_marking)`` found by pm4py's Heuristics Miner:
    keeps only dependencies above the threshold, so it shows the main flow of noisy logs."""
    import pm4py

    return pm4py.discover_petri_net_heuristics(
        pm4py_view(log),
        dependency_threshold=dependency_threshold,
        and_threshold=and_threshold,
        loop_two_threshold=loop_two_threshold,
        **_PM4PY_KEYS,
    )


def model_quality(
    log: pd.DataFrame,
    net: Any,
    im: Any,
    fm: Any,
    method: Literal["token", "alignments"] = "token",
) -> dict[str, Any]:
    """How well a Petri net describes the log: ``fitness`` (share of the behaviour the model can
    replay, log level) and ``precision`` (how little extra behaviour it allows), both in [0, 1].

    ``method="token"`` (default) uses token-based replay for both (fast, an approximation);
    ``"alignments"`` uses alignment-based fitness and precision (exact, much slower).
    Also returns ``fitting_cases_share`` (token) or ``average_trace_fitness`` and the method.
    pm4py's progress bars are switched off: library code does not write to the terminal.
    """
    from pm4py.algo.evaluation.precision import algorithm as precision_algo
    from pm4py.algo.evaluation.replay_fitness import algorithm as fitness_algo

    params = {
        "pm4py:param:activity_key": ACTIVITY,
        "pm4py:param:attribute_key": ACTIVITY,
        "pm4py:param:timestamp_key": TIMESTAMP,
        "pm4py:param:case_id_key": CASE,
        "case_id_glue": CASE,
        "show_progress_bar": False,
    }
    # Per method: its name in the result, pm4py's fitness and precision variants, and the keys
    # under which pm4py's fitness result holds the fitting share and the mean trace fitness.
    variants = {
        "token": ("token_based_replay", fitness_algo.Variants.TOKEN_BASED,
                  precision_algo.Variants.ETCONFORMANCE_TOKEN, "perc_fit_traces", "average_trace_fitness"),
        "alignments": ("alignments", fitness_algo.Variants.ALIGNMENT_BASED,
                       precision_algo.Variants.ALIGN_ETCONFORMANCE, "percFitTraces", "averageFitness"),
    }
    view = pm4py_view(log)
    if method not in ("token", "alignments"):  # by ==, like the comparison it replaces
        raise ValueError(f"unknown method {method!r}; use 'token' or 'alignments'")
    name, fitness_variant, precision_variant, fitting_key, average_key = variants[method]
    fit = fitness_algo.apply(view, net, im, fm, variant=fitness_variant, parameters=params)
    prec = precision_algo.apply(view, net, im, fm, variant=precision_variant, parameters=params)
    return {
        "method": name,
        "fitness": float(fit["log_fitness"]),
        "precision": float(prec),
        "fitting_cases_share": float(fit[fitting_key]) / 100.0,
        "average_trace_fitness": float(fit[average_key]),
    }


def size_guard(n_activities: int, n_variants: int) -> str | None:
    """Why pm4py's miners would not finish in reasonable time on a log this size, or None."""
    over = []
    if n_activities > MAX_ACTIVITIES:
        over.append(f"{n_activities:,} activities (limit {MAX_ACTIVITIES:,})")
    if n_variants > MAX_VARIANTS:
        over.append(f"{n_variants:,} variants (limit {MAX_VARIANTS:,})")
    return f"the log has {' and '.join(over)}" if over else None


def _mine_one(view: pd.DataFrame, name: str, noise: float) -> dict[str, Any]:
    """One model with its size and token-based quality."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pm4py's deprecation notices are not the auditor's business
        if name == "inductive":
            net, im, fm = inductive_model(view, noise_threshold=noise)
        else:
            net, im, fm = heuristics_model(view, **HEURISTICS)
        quality = model_quality(view, net, im, fm)
    return {"places": len(net.places), "transitions": len(net.transitions),
            "silent_transitions": sum(1 for t in net.transitions if t.label is None), **quality}


def _child(conn, fn: Callable, args: tuple) -> None:
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def run_with_budget(fn: Callable, args: tuple, budget_s: float | None) -> tuple[str, Any]:
    """("ok", result), ("error", message) or ("timeout", None): `fn(*args)` in a child process
    stopped after `budget_s` seconds (None or 0: in this process, without a limit)."""
    if not budget_s:
        try:
            return "ok", fn(*args)
        except Exception as exc:  # noqa: BLE001 - same contract as the child
            return "error", f"{type(exc).__name__}: {exc}"
    # fork shares the log with the child without pickling it; elsewhere spawn (Windows, macOS).
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    proc.start()
    send.close()
    try:
        if recv.poll(budget_s):
            try:
                return recv.recv()
            except EOFError:
                return "error", f"the model process ended with exit code {proc.exitcode}"
        return "timeout", None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        recv.close()


def mine_models(log: pd.DataFrame, noise: float = 0.2, budget_s: float | None = DEFAULT_BUDGET_S,
                force: bool = False, n_activities: int | None = None,
                n_variants: int | None = None) -> dict[str, dict[str, Any]]:
    """The Inductive and Heuristics Miner models of the log with their token-based quality.

    Each entry holds the model's parameters and, when mined, its size and quality; a model not
    mined has `skipped` (the reason, in words) instead. Beyond the size guard no model is mined
    unless `force`. The models share `budget_s` seconds (None or 0: no limit): each gets an
    equal share of what the models before it left."""
    view = pm4py_view(log)
    if n_activities is None:
        n_activities = int(view[ACTIVITY].nunique())
    if n_variants is None:
        n_variants = int(view.groupby(CASE, sort=False)[ACTIVITY].agg(tuple).nunique())
    reason = None if force else size_guard(n_activities, n_variants)
    out: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + budget_s if budget_s else None
    for i, name in enumerate(MODELS):
        params = {"noise_threshold": noise} if name == "inductive" else dict(HEURISTICS)
        if reason:
            out[name] = {**params, "skipped": f"not mined: {reason}; pm4py's miners may run for hours on such a log"}
            continue
        share = max(0.0, deadline - time.monotonic()) / (len(MODELS) - i) if deadline else None
        text = f"{name} model: mining and token replay" + (f" (at most {share:.0f} s)" if share else "")
        with progress.step(text):
            status, value = run_with_budget(_mine_one, (view, name, noise), share) if share != 0 else ("timeout", None)
        if status == "ok":
            out[name] = {**params, **value}
        elif status == "timeout":
            out[name] = {**params, "skipped": f"stopped after {share:.0f} s, its share of the time budget of "
                                              f"{budget_s:g} s for the models"}
        else:
            out[name] = {**params, "skipped": f"pm4py failed: {value}"}
    return out
