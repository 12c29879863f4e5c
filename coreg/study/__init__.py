"""A whole study of recordings analysed at once, on Dask, with pseudo-dyad controls.

``coreg study DIR|GLOB... -o OUT`` (:mod:`coreg.cli.study`) runs :func:`coreg.study.run.run_study`:
one task per recording (:mod:`coreg.study.session`: the HRV summary per role exactly as
``coreg analyze``, the whole-session synchrony against surrogates and the windowed synchrony
series), then, for every real dyad, *pseudo-dyads* — its client with the therapists of other
sessions and its therapist with their clients, aligned on session time
(:mod:`coreg.study.pseudo`; Bernieri, Reznick & Rosenthal 1988,
doi:10.1037/0022-3514.54.2.243; Ramseyer & Tschacher 2010, doi:10.1007/978-3-642-12397-9_15;
Moulder et al. 2018, doi:10.1037/met0000172).
Results go to Parquet and CSV tables and a ``study.json`` manifest (:mod:`coreg.study.tables`);
``coreg report --study OUT`` draws them (:mod:`coreg.report.study`).

The package sits at the report level (it imports the engine and the recording reader, never the
session, UI or CLI). dask.distributed and pyarrow are optional (``pip install 'coreg[study]'``)
and imported only where needed (:func:`coreg.study.deps.require`); the per-recording and
pseudo-pair computations themselves need only numpy and scipy.
"""

from __future__ import annotations
