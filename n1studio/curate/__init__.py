"""Curation: the study file, N / N-1 datasets, batch evaluation and the N-vs-N-1 report.

Public API (import from the submodules):
- `study.Study.open(path, create=False)`: the SQLite study (grids, variants, references,
  datasets, models, runs, annotations, sweeps); `study.grid_hash`, `study.model_sha256`
- `dataset.build_dataset(...)`, `dataset.export_jsonl`, `dataset.import_jsonl`,
  `dataset.read_jsonl` (the `n1studio.case/1` record format is documented there)
- `evaluate.run_eval(study, dataset_id, models, settings, ...) -> EvalSummary`
- `report.build_report(study, dataset_id)`, `report.write_report(report, out_dir)`,
  `report.report_svg`, `report.report_html`, `report.report_text`
- `progress.ProgressBar`: the command line's progress bar

The N-1 sweep itself is `n1studio.solve.sweep.run_sweep`.
"""
